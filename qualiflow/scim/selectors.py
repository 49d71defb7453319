"""Reads for the SCIM endpoints: who is a SCIM User or Group, and SCIM filters as Django queries."""

from __future__ import annotations

import datetime as dt
import uuid
from functools import reduce
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from scim2_models import ScimFilter
from scim2_models.path import Comparison, LogicalExpr, LogicalOperator, Not, Present, ValuePath

from qualiflow.accounts.models import User
from qualiflow.people.models import EmployeeStatus

from .domain.attributes import (
    CONSTANT_SUB_ATTRIBUTES,
    GROUP_FIELDS,
    GROUP_SCHEMA_PREFIX,
    USER_FIELDS,
    USER_SCHEMA_PREFIX,
    key,
)
from .errors import ScimError, ScimType
from .models import ScimAccount, ScimGroup

_NOTHING = Q(pk__in=[])
_STRING_LOOKUPS = {"eq": "iexact", "co": "icontains", "sw": "istartswith", "ew": "iendswith",
                   "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
_ORDER_LOOKUPS = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}


def scim_users() -> QuerySet[User]:
    """Logins of people: not integration clients, linked to an employee who has not left (a deleted
    SCIM User is a terminated employee, kept as evidence)."""
    return (
        User.objects.filter(is_integration=False, employee__isnull=False)
        .exclude(employee__status=EmployeeStatus.TERMINATED)
        .select_related("employee", "employee__department", "employee__manager")
    )


def scim_user_get(user_id: str) -> User:
    user = scim_users().filter(pk=_uuid(user_id)).first() if _uuid(user_id) else None
    if user is None:
        raise ScimError(404, _("No user with id %(id)s.") % {"id": user_id})
    return user


def scim_groups() -> QuerySet[ScimGroup]:
    return ScimGroup.objects.all()


def scim_group_get(group_id: str) -> ScimGroup:
    group = scim_groups().filter(pk=_uuid(group_id)).first() if _uuid(group_id) else None
    if group is None:
        raise ScimError(404, _("No group with id %(id)s.") % {"id": group_id})
    return group


def group_members(group: ScimGroup) -> list[User]:
    return list(scim_users().filter(scim_memberships__group=group).order_by("scim_memberships__created_at"))


def user_groups(user: User) -> list[ScimGroup]:
    return list(ScimGroup.objects.filter(memberships__user=user).order_by("display_name"))


def scim_account(user: User) -> ScimAccount:
    """The SCIM bookkeeping of a login (unsaved and empty for a login no SCIM client has written yet)."""
    return ScimAccount.objects.filter(user=user).first() or ScimAccount(user=user)


def filtered_users(filter_text: str | None, *, sort_by: str | None = None, descending: bool = False) -> QuerySet[User]:
    return _filtered(scim_users(), filter_text, USER_FIELDS, USER_SCHEMA_PREFIX, sort_by, descending)


def filtered_groups(filter_text: str | None, *, sort_by: str | None = None, descending: bool = False) -> QuerySet[ScimGroup]:
    return _filtered(scim_groups(), filter_text, GROUP_FIELDS, GROUP_SCHEMA_PREFIX, sort_by, descending)


def _filtered(base: QuerySet, filter_text: str | None, fields: dict, prefix: str, sort_by: str | None,
              descending: bool) -> QuerySet:
    queryset = base
    if filter_text:
        condition = filter_condition(filter_text, fields=fields, core_prefix=prefix)
        # Filtering through a subquery keeps one row per resource when a multi-valued attribute matches twice.
        queryset = base.filter(pk__in=base.model._base_manager.filter(condition).values("pk"))
    order = ["created_at", "pk"]
    if sort_by:
        field, kind = _field(sort_by, fields, prefix)
        if field.count("__") and kind == "exact" and field.split("__")[0] in ("scim_memberships", "memberships"):
            raise ScimError(400, _("Cannot sort by %(attribute)s.") % {"attribute": sort_by}, ScimType.INVALID_PATH)
        order = [f"-{field}" if descending else field, "pk"]
    return queryset.order_by(*order)


def _field(path_text: str, fields: dict, prefix: str) -> tuple[str, str]:
    text = path_text.strip()
    lowered = text.lower()
    if lowered.startswith(prefix):
        lowered = lowered[len(prefix):]
    entry = fields.get(lowered)
    if entry is None:
        raise ScimError(400, _("Unknown attribute: %(attribute)s.") % {"attribute": text}, ScimType.INVALID_PATH)
    return entry


def filter_condition(filter_text: str, *, fields: dict[str, tuple[str, str]], core_prefix: str) -> Q:
    """Translate a SCIM filter (RFC 7644 §3.4.2.2) into a Q over the resource's stored fields."""
    try:
        tree = ScimFilter(filter_text).ast
    except Exception as exc:
        raise ScimError(400, _("The filter cannot be read: %(error)s") % {"error": exc}, ScimType.INVALID_FILTER) from exc
    return _Translator(fields, core_prefix).q(tree, parent=None)


class _Translator:
    def __init__(self, fields: dict[str, tuple[str, str]], core_prefix: str) -> None:
        self.fields = fields
        self.core_prefix = core_prefix

    def q(self, node: Any, parent: str | None) -> Q:
        if isinstance(node, LogicalExpr):
            parts = [self.q(term, parent) for term in node.terms]
            return reduce((lambda a, b: a & b) if node.op == LogicalOperator.and_ else (lambda a, b: a | b), parts)
        if isinstance(node, Not):
            return ~self.q(node.expr, parent)
        if isinstance(node, ValuePath):
            if parent is not None:
                raise _unsupported(str(node))
            attr = key(node.attr_path.uri, node.attr_path.attr, None, core_prefix=self.core_prefix)
            return self.q(node.val_filter, attr)
        if isinstance(node, Present):
            return self._present(self._key(node.attr_path, parent), str(node.attr_path))
        if isinstance(node, Comparison):
            return self._compare(self._key(node.attr_path, parent), node, str(node.attr_path))
        raise _unsupported(str(node))

    def _key(self, attr_path: Any, parent: str | None) -> str:
        if parent is not None:
            return f"{parent}.{attr_path.attr.lower()}"
        return key(attr_path.uri, attr_path.attr, attr_path.sub_attr, core_prefix=self.core_prefix)

    def _lookup(self, name: str, text: str) -> tuple[str, str]:
        entry = self.fields.get(name)
        if entry is None:
            raise ScimError(400, _("Cannot filter on %(attribute)s.") % {"attribute": text}, ScimType.INVALID_FILTER)
        return entry

    def _constant(self, name: str) -> tuple[str, object] | None:
        """(attribute holding the value, constant) for `emails.type` and the like."""
        attribute, _dot, sub = name.rpartition(".")
        constants = CONSTANT_SUB_ATTRIBUTES.get(attribute)
        if constants is not None and sub in constants:
            return attribute, constants[sub]
        return None

    def _present(self, name: str, text: str) -> Q:
        constant = self._constant(name)
        if constant is not None:
            name = constant[0]
        field, kind = self._lookup(name, text)
        present = Q(**{f"{field}__isnull": False})
        if kind == "string":
            present &= ~Q(**{field: ""})
        elif kind == "key":
            present = Q(**{f"{field.rsplit('__', 1)[0]}__has_key": field.rsplit("__", 1)[1]})
        return present

    def _compare(self, name: str, node: Comparison, text: str) -> Q:
        op = str(node.op)
        value = node.value
        constant = self._constant(name)
        if constant is not None:
            attribute, held = constant
            matches = _compare_constant(held, op, value)
            return self._present(attribute, text) & (Q() if matches else _NOTHING)
        field, kind = self._lookup(name, text)
        if value is None:
            if op not in ("eq", "ne"):
                raise _unsupported(str(node))
            present = self._present(name, text)
            return ~present if op == "eq" else present
        if kind == "string":
            if not isinstance(value, str) or (op not in _STRING_LOOKUPS and op != "ne"):
                raise _unsupported(str(node))
            condition = Q(**{f"{field}__{_STRING_LOOKUPS['eq' if op == 'ne' else op]}": value})
            return ~condition if op == "ne" else condition
        if kind == "bool":
            if not isinstance(value, bool) or op not in ("eq", "ne"):
                raise _unsupported(str(node))
            return Q(**{field: value if op == "eq" else not value})
        if kind == "datetime":
            moment = _datetime(value)
            if moment is None or op not in ("eq", "ne", *_ORDER_LOOKUPS):
                raise _unsupported(str(node))
            if op in _ORDER_LOOKUPS:
                return Q(**{f"{field}__{_ORDER_LOOKUPS[op]}": moment})
            condition = Q(**{field: moment})
            return ~condition if op == "ne" else condition
        # Identifiers are compared exactly and only for (in)equality.
        if op not in ("eq", "ne") or not isinstance(value, str):
            raise _unsupported(str(node))
        if field.endswith("_id") or field == "pk":
            ident = _uuid(value)
            condition = Q(**{field: ident}) if ident else _NOTHING
        else:
            condition = Q(**{field: value})
        return ~condition if op == "ne" else condition


def _compare_constant(held: object, op: str, value: object) -> bool:
    if isinstance(held, bool):
        return op in ("eq", "ne") and (held == value) == (op == "eq")
    held_text, text = str(held).lower(), str(value).lower()
    return {
        "eq": held_text == text, "ne": held_text != text, "co": text in held_text,
        "sw": held_text.startswith(text), "ew": held_text.endswith(text),
    }.get(op, False)


def _datetime(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _unsupported(expression: str) -> ScimError:
    return ScimError(
        400, _("This comparison is not supported: %(expression)s") % {"expression": expression}, ScimType.INVALID_FILTER
    )
