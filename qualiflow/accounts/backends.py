"""Answers `user.has_perm("audit.view")` from Qualiflow roles, so apps below accounts in the import
direction (audit, integration) can check a permission without importing accounts."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .permissions import has_perm


class RolePermissionBackend:
    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return has_perm(user_obj, perm, obj)


class HumanModelBackend(ModelBackend):
    """Password sign-in and sessions for people only: an integration client authenticates with its API
    token, so even a password set on it by mistake opens no session and no UI."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_integration", False)
