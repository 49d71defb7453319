"""Audit capture at the model layer, so every write path is covered: services, forms, the admin,
the API, imports, the shell and bulk queryset operations all end here.

Services add the why (reason) through `qualiflow.core.context.acting`; this module adds the what
(field-level old and new values).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid
from typing import Any

from django.db import models, router, transaction
from django.db.models.deletion import Collector

from qualiflow.core.models import BaseModel

from . import recorder
from .models import AuditAction

_UNTRACKED = frozenset({"created_at", "updated_at"})


_PLAIN_TYPES = frozenset({type(None), bool, int, float, str})


def json_value(value: Any) -> Any:
    if type(value) in _PLAIN_TYPES:
        return value
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return value
    if isinstance(value, bytes | memoryview):
        return "<binary>"
    return str(value)


def tracked_fields(model: type[models.Model]) -> list[models.Field]:
    cached = model.__dict__.get("_audit_fields")
    if cached is None:
        ignored = _UNTRACKED | set(getattr(model, "audit_ignored_fields", ()))
        cached = [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in ignored]
        model._audit_fields = cached
    return cached


class Masked(str):
    """A secret as the trail shows it, "***", that still compares unequal to another secret, so changing
    it leaves an entry. The value itself never leaves memory."""

    def __new__(cls, value: Any) -> Masked:
        masked = super().__new__(cls, "***")
        masked.fingerprint = hashlib.sha256(str(value).encode()).digest()
        return masked

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Masked) and other.fingerprint == self.fingerprint

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


def snapshot(instance: models.Model) -> dict[str, Any]:
    masked = getattr(instance, "audit_masked_fields", ())
    values = {}
    for field in tracked_fields(type(instance)):
        if field.attname in instance.__dict__:
            value = instance.__dict__[field.attname]
            values[field.attname] = Masked(value) if field.name in masked and value else json_value(value)
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if k in before and before[k] != v}


def object_type(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _change(instance: models.Model, action: str, changes: dict[str, Any]) -> recorder.Change:
    return recorder.Change(action, object_type(type(instance)), str(instance.pk), str(instance)[:255], changes)


def _row_snapshot(model: type[models.Model], row: dict[str, Any]) -> dict[str, Any]:
    masked = getattr(model, "audit_masked_fields", ())
    out = {}
    for field in tracked_fields(model):
        if field.attname in row:
            value = row[field.attname]
            out[field.attname] = Masked(value) if field.name in masked and value else json_value(value)
    return out


def _audit_collected_deletes(collector: Collector) -> None:
    changes = []
    for model, instances in collector.data.items():
        if issubclass(model, AuditedModel):
            changes.extend(
                _change(obj, AuditAction.DELETE, {k: [v, None] for k, v in snapshot(obj).items()}) for obj in instances
            )
    for qs in collector.fast_deletes:
        if issubclass(qs.model, AuditedModel):
            changes.extend(
                _change(obj, AuditAction.DELETE, {k: [v, None] for k, v in snapshot(obj).items()}) for obj in qs
            )
    # on_delete=SET_NULL / SET_DEFAULT / SET(...): the collector updates the referring rows with plain SQL,
    # from objects it loaded with only their keys, so the old values are read here.
    for (field, value), instances_list in collector.field_updates.items():
        referring = [obj for instances in instances_list for obj in instances]
        if not referring or not isinstance(referring[0], AuditedModel):
            continue
        new = json_value(getattr(value, "pk", value))
        current = type(referring[0])._base_manager.using(collector.using).in_bulk([obj.pk for obj in referring])
        for obj in current.values():
            old = json_value(getattr(obj, field.attname))
            if old != new:
                changes.append(_change(obj, AuditAction.UPDATE, {field.attname: [old, new]}))
    recorder.write(changes, using=collector.using)


class AuditedQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        attnames = [self.model._meta.get_field(name).attname for name in kwargs]
        with transaction.atomic(using=self.db):
            before = {row["pk"]: row for row in self.select_for_update().values("pk", *attnames)}
            count = super().update(**kwargs)
            if before:
                after = self.model._base_manager.using(self.db).filter(pk__in=list(before)).values("pk", *attnames)
                deltas = {}
                for row in after:
                    delta = diff(_row_snapshot(self.model, before[row["pk"]]), _row_snapshot(self.model, row))
                    if delta:
                        deltas[row["pk"]] = delta
                if deltas:
                    objects = self.model._base_manager.using(self.db).in_bulk(list(deltas))
                    recorder.write(
                        [_change(objects[pk], AuditAction.UPDATE, delta) for pk, delta in deltas.items()],
                        using=self.db,
                    )
                else:
                    # Only untracked fields changed: still the application's write, not a raw-SQL change.
                    recorder.mark_application_write(self.db)
        return count

    update.alters_data = True

    def delete(self) -> tuple[int, dict[str, int]]:
        with transaction.atomic(using=self.db):
            collector = Collector(using=self.db, origin=self)
            collector.collect(list(self))
            _audit_collected_deletes(collector)
            return collector.delete()

    delete.alters_data = True

    def bulk_create(self, objs, *args: Any, **kwargs: Any):
        objs = list(objs)
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            recorder.write(
                [_change(o, AuditAction.CREATE, {k: [None, v] for k, v in snapshot(o).items()}) for o in created],
                using=self.db,
            )
            for o in created:
                o._audit_loaded = snapshot(o)
        return created

    bulk_create.alters_data = True

    def bulk_update(self, objs, fields, batch_size: int | None = None) -> int:
        objs = list(objs)
        attnames = [self.model._meta.get_field(name).attname for name in fields]
        with transaction.atomic(using=self.db):
            before = {
                row["pk"]: _row_snapshot(self.model, row)
                for row in self.model._base_manager.using(self.db).filter(pk__in=[o.pk for o in objs]).values("pk", *attnames)
            }
            # Django implements bulk_update with queryset.update(); through a plain queryset, so the rows
            # are audited once, here, and not again by AuditedQuerySet.update.
            plain = models.QuerySet(model=self.model, query=self.query.chain(), using=self._db)
            count = plain.bulk_update(objs, fields, batch_size=batch_size)
            changes = []
            for obj in objs:
                after = _row_snapshot(self.model, {a: obj.__dict__[a] for a in attnames if a in obj.__dict__})
                delta = diff(before.get(obj.pk, {}), after)
                if delta:
                    changes.append(_change(obj, AuditAction.UPDATE, delta))
                # Only the saved fields are now what the database holds.
                loaded = getattr(obj, "_audit_loaded", None)
                obj._audit_loaded = {**loaded, **after} if loaded is not None else snapshot(obj)
            recorder.write(changes, using=self.db)
        return count

    bulk_update.alters_data = True


class AuditedManager(models.Manager.from_queryset(AuditedQuerySet)):
    pass


class AuditedModel(BaseModel):
    """A master or regulated record: every create, update and delete leaves a chained audit entry."""

    # Changes to a model with this flag need a reason; services and the UI/API enforce it.
    audit_reason_required = False
    # Field names whose values never reach the audit trail in clear.
    audit_masked_fields: tuple[str, ...] = ()
    # Bookkeeping fields whose changes are not worth an entry (e.g. last login time).
    audit_ignored_fields: tuple[str, ...] = ()

    objects = AuditedManager()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._audit_loaded = snapshot(instance)
        return instance

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        # No savepoint, like Django's own Model.save: an error poisons the caller's transaction, so the
        # row change and its audit entry commit together or not at all.
        with transaction.atomic(using=using, savepoint=False):
            adding = self._state.adding
            before = getattr(self, "_audit_loaded", None)
            if not adding and before is None:
                row = type(self)._base_manager.using(using).filter(pk=self.pk).values().first()
                before = _row_snapshot(type(self), row or {})
            super().save(*args, **kwargs)
            after = loaded = snapshot(self)
            if adding:
                recorder.write(
                    [_change(self, AuditAction.CREATE, {k: [None, v] for k, v in after.items()})], using=using
                )
            else:
                update_fields = kwargs.get("update_fields")
                if update_fields is not None:
                    names = {type(self)._meta.get_field(n).attname for n in update_fields}
                    after = {k: v for k, v in after.items() if k in names}
                delta = diff(before, after)
                if delta:
                    recorder.write([_change(self, AuditAction.UPDATE, delta)], using=using)
                else:
                    recorder.mark_application_write(using)
        self._audit_loaded = loaded

    def delete(self, using: str | None = None, keep_parents: bool = False):
        using = using or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            collector = Collector(using=using, origin=self)
            collector.collect([self], keep_parents=keep_parents)
            _audit_collected_deletes(collector)
            return collector.delete()
