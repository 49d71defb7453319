"""Answers `user.has_perm("audit.view")` from Qualiflow roles, so apps below accounts in the import
direction (audit, integration) can check a permission without importing accounts."""

from __future__ import annotations

from .permissions import has_perm


class RolePermissionBackend:
    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return has_perm(user_obj, perm, obj)
