"""Who may do what, where. Deny by default; roles grant permissions, assignments narrow them to a scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from .roles import ROLE_PERMISSIONS, ScopeKind


class Scoped(Protocol):
    """A record placed in the organisation (an employee, a work order, a piece of equipment)."""

    site_id: UUID | None
    department_id: UUID | None
    line_id: UUID | None


@dataclass(frozen=True)
class Scope:
    everywhere: bool = False
    site_ids: frozenset[UUID] = frozenset()
    department_ids: frozenset[UUID] = frozenset()
    line_ids: frozenset[UUID] = frozenset()

    @property
    def nothing(self) -> bool:
        return not (self.everywhere or self.site_ids or self.department_ids or self.line_ids)

    def covers(self, obj: Scoped) -> bool:
        return (
            self.everywhere
            or (obj.site_id is not None and obj.site_id in self.site_ids)
            or (obj.department_id is not None and obj.department_id in self.department_ids)
            or (getattr(obj, "line_id", None) is not None and obj.line_id in self.line_ids)
        )


NO_SCOPE = Scope()
EVERYWHERE = Scope(everywhere=True)


def _grants(user) -> dict[str, Scope]:
    cached = getattr(user, "_qualiflow_grants", None)
    if cached is not None:
        return cached
    grants: dict[str, dict] = {}
    if user is not None and user.is_authenticated and user.is_active:
        for role, kind, scope_id in user.role_assignments.values_list("role", "scope_kind", "scope_id"):
            for perm in ROLE_PERMISSIONS.get(role, ()):
                g = grants.setdefault(perm, {"everywhere": False, "site": set(), "department": set(), "line": set()})
                if kind == ScopeKind.GLOBAL:
                    g["everywhere"] = True
                else:
                    g[kind].add(scope_id)
    result = {
        perm: Scope(g["everywhere"], frozenset(g["site"]), frozenset(g["department"]), frozenset(g["line"]))
        for perm, g in grants.items()
    }
    if user is not None:
        user._qualiflow_grants = result
    return result


def scope_for(user, perm: str) -> Scope:
    """Where `user` holds `perm`; `NO_SCOPE` when nowhere."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    if user.is_superuser:
        return EVERYWHERE
    return _grants(user).get(perm, NO_SCOPE)


def has_perm(user, perm: str, obj: Scoped | None = None) -> bool:
    """`perm` anywhere (obj None) or over `obj`'s place in the organisation."""
    scope = scope_for(user, perm)
    if obj is None:
        return not scope.nothing
    return scope.covers(obj)


def forget(user) -> None:
    """Drop the per-request cache after the user's roles changed."""
    if hasattr(user, "_qualiflow_grants"):
        del user._qualiflow_grants
