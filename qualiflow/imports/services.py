"""Writes of the import app: source systems and their mappings; uploading a file, its dry run, queueing,
committing (all rows in one transaction, or nothing) and rolling a committed batch back from its ledger.

Whoever passes `by` must hold `integration.import`; `by` None is the system (the worker acts as the user
who queued the batch). Every change to Qualiflow data is audited by the model layer with a reason naming
the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.apps import apps
from django.core.files import File
from django.db import models, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.core import context
from qualiflow.core.errors import Conflict, CoreErrorCode, PermissionDenied, ValidationFailed
from qualiflow.core.validation import full_clean
from qualiflow.integration import events

from . import engine, progress
from .errors import ImportsErrorCode
from .kinds import SPECS
from .models import (
    BatchStatus,
    ChangeAction,
    ColumnMapping,
    ImportBatch,
    ImportKind,
    ImportRowError,
    SourceSystem,
    ValueMapping,
)

logger = logging.getLogger(__name__)


def _authorize(by) -> None:
    if by is not None and not has_perm(by, Perm.INTEGRATION_IMPORT):
        raise PermissionDenied(CoreErrorCode.PERMISSION_DENIED, _("You are not allowed to import data."))


def _refuse(field: str, message: str, code: ImportsErrorCode) -> None:
    raise ValidationFailed(message, fields={field: [message]}, code=code)


# ---- source systems and mappings ------------------------------------------------------------------------


@transaction.atomic
def source_system_create(*, code: str, name: str, by=None) -> SourceSystem:
    _authorize(by)
    code, name = (code or "").strip(), (name or "").strip()
    if SourceSystem.objects.filter(code=code).exists():
        _refuse("code", _("The code %(code)s is already used.") % {"code": code}, ImportsErrorCode.SOURCE_CODE_TAKEN)
    source = SourceSystem(code=code, name=name)
    full_clean(source)
    with context.acting(reason=_("Source system %(code)s set up for imports") % {"code": code}):
        source.save()
    return source


@transaction.atomic
def source_system_rename(*, source: SourceSystem, name: str, by=None) -> SourceSystem:
    _authorize(by)
    source = SourceSystem.objects.select_for_update().get(pk=source.pk)
    source.name = (name or "").strip()
    full_clean(source)
    with context.acting(reason=_("Source system %(code)s renamed") % {"code": source.code}):
        source.save()
    return source


def _check_kind(kind: str) -> None:
    if kind not in ImportKind.values:
        _refuse("kind", _("Unknown kind of import: %(kind)s. Choose one of %(kinds)s.") % {
            "kind": kind, "kinds": ", ".join(ImportKind.values)}, ImportsErrorCode.KIND_UNKNOWN)


def check_columns(kind: str, columns: Mapping[str, Any]) -> dict[str, str]:
    """A column mapping as saved: known fields only, each naming a non-empty source header."""
    _check_kind(kind)
    if not isinstance(columns, Mapping):
        _refuse("columns", _("The column mapping must map Qualiflow fields to source column headers."),
                ImportsErrorCode.MAPPING_INVALID)
    known = SPECS[kind].names
    unknown = sorted(set(columns) - set(known))
    if unknown:
        _refuse("columns", _("%(kind)s have no field %(fields)s; the fields are %(known)s.") % {
            "kind": ImportKind(kind).label, "fields": ", ".join(unknown), "known": ", ".join(known)},
            ImportsErrorCode.MAPPING_INVALID)
    clean = {}
    for name, header in columns.items():
        if not isinstance(header, str):
            _refuse("columns", _("The source column for %(field)s must be a text.") % {"field": name},
                    ImportsErrorCode.MAPPING_INVALID)
        if header.strip():
            clean[name] = header.strip()
    return clean


def check_values(values: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    if not isinstance(values, Mapping) or not all(
        isinstance(m, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in m.items())
        for m in values.values()
    ):
        _refuse("values", _("The value mapping must map each field to {legacy value: Qualiflow value}."),
                ImportsErrorCode.MAPPING_INVALID)
    return {name: dict(m) for name, m in values.items()}


@transaction.atomic
def column_mapping_set(*, source: SourceSystem, kind: str, columns: Mapping[str, Any], by=None) -> ColumnMapping:
    """Save which source column feeds each field; fields left out are read from a column of their own name."""
    _authorize(by)
    clean = check_columns(kind, columns)
    mapping = ColumnMapping.objects.select_for_update().filter(source_system=source, kind=kind).first()
    if mapping is None:
        mapping = ColumnMapping(source_system=source, kind=kind)
    mapping.columns = clean
    with context.acting(reason=_("Column mapping of %(source)s for %(kind)s saved") % {
            "source": source.code, "kind": kind}):
        mapping.save()
    return mapping


@transaction.atomic
def value_mapping_set(*, source: SourceSystem, field: str, legacy_value: str, value: str, by=None) -> ValueMapping:
    _authorize(by)
    field, legacy_value = (field or "").strip(), (legacy_value or "").strip()
    if field not in {name for spec in SPECS.values() for name in spec.names}:
        _refuse("field", _("No kind of import has a field %(field)s.") % {"field": field}, ImportsErrorCode.MAPPING_INVALID)
    mapping = ValueMapping.objects.select_for_update().filter(
        source_system=source, field=field, legacy_value=legacy_value).first()
    if mapping is None:
        mapping = ValueMapping(source_system=source, field=field, legacy_value=legacy_value)
    mapping.value = (value or "").strip()
    full_clean(mapping)
    with context.acting(reason=_("Value mapping of %(source)s for %(field)s saved") % {
            "source": source.code, "field": field}):
        mapping.save()
    return mapping


@transaction.atomic
def value_mapping_remove(*, mapping: ValueMapping, by=None) -> None:
    _authorize(by)
    with context.acting(reason=_("Value mapping of %(source)s for %(field)s removed") % {
            "source": mapping.source_system.code, "field": mapping.field}):
        mapping.delete()


def saved_mappings(source: SourceSystem, kind: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    mapping = ColumnMapping.objects.filter(source_system=source, kind=kind).first()
    values: dict[str, dict[str, str]] = {}
    for vm in ValueMapping.objects.filter(source_system=source):
        values.setdefault(vm.field, {})[vm.legacy_value] = vm.value
    return (dict(mapping.columns) if mapping else {}), values


# ---- batches --------------------------------------------------------------------------------------------


def _job(batch: ImportBatch) -> engine.Job:
    return engine.Job(kind=batch.kind, source=batch.source_system.code, path=batch.file.path,
                      file_name=batch.file_name, columns=batch.column_mapping, values=batch.value_mapping)


def _store_errors(batch: ImportBatch, outcome: engine.Outcome) -> None:
    ImportRowError.objects.filter(batch=batch).delete()
    ImportRowError.objects.bulk_create(
        [ImportRowError(batch=batch, row_number=e.row, column=e.column[:200], code=e.code, message=e.message)
         for e in outcome.errors],
        batch_size=1000,
    )


def batch_upload(
    *, kind: str, source: SourceSystem, file, file_name: str, by=None,
    columns: Mapping[str, Any] | None = None, values: Mapping[str, Any] | None = None,
) -> ImportBatch:
    """Keep the file with the mappings in force now (the source system's saved ones unless others are
    given), ready for its dry run."""
    _authorize(by)
    _check_kind(kind)
    saved_columns, saved_values = saved_mappings(source, kind)
    batch = ImportBatch(
        kind=kind, source_system=source, file_name=(file_name or "import")[:255],
        column_mapping=check_columns(kind, columns) if columns is not None else saved_columns,
        value_mapping=check_values(values) if values is not None else saved_values,
        created_by=by if by is not None and by.is_authenticated else None,
    )
    batch.file.save(get_valid_filename(batch.file_name) or "import", File(file), save=False)
    batch.save()
    return batch


def batch_validate(*, batch: ImportBatch, by=None, on_progress: Callable[[int], None] | None = None) -> ImportBatch:
    """The dry run: what the commit would create, update and skip, and every row error. Writes only the
    batch and its errors, never Qualiflow data."""
    _authorize(by)
    if batch.status not in (BatchStatus.UPLOADED, BatchStatus.VALIDATED, BatchStatus.FAILED):
        raise Conflict(ImportsErrorCode.WRONG_STATUS, _("This batch has already been queued or committed."))
    outcome = engine.run(_job(batch), progress=on_progress)
    with transaction.atomic():
        _store_errors(batch, outcome)
        batch.encoding = outcome.encoding
        batch.rows = outcome.rows
        batch.created_count, batch.updated_count, batch.skipped_count = outcome.created, outcome.updated, outcome.skipped
        batch.error_count = outcome.error_count
        batch.preview = outcome.summary()
        batch.progress_done, batch.progress_total = 0, outcome.rows
        batch.status = BatchStatus.VALIDATED
        batch.failure = ""
        batch.save()
    return batch


@transaction.atomic
def batch_queue(*, batch: ImportBatch, by=None) -> ImportBatch:
    """Hand a clean dry run to the worker, which commits it in the background."""
    _authorize(by)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    _refuse_uncommittable(batch)
    batch.status = BatchStatus.QUEUED
    batch.committed_by = by if by is not None and by.is_authenticated else None
    batch.save(update_fields=["status", "committed_by", "updated_at"])
    return batch


def _refuse_uncommittable(batch: ImportBatch) -> None:
    if batch.status != BatchStatus.VALIDATED:
        raise Conflict(ImportsErrorCode.NOT_VALIDATED, _("Only a batch whose dry run has just been made can be committed."))
    if batch.error_count:
        raise Conflict(ImportsErrorCode.HAS_ERRORS, _(
            "The dry run found %(count)s errors; correct the file and upload it again.") % {"count": batch.error_count})


class _Refused(Exception):
    """Rows turned out invalid while committing: the transaction is rolled back."""


def batch_commit(*, batch: ImportBatch, by=None, on_progress: Callable[[int], None] | None = None) -> ImportBatch:
    """Write every row in one transaction, with live progress. Any error (in a row, since the dry run, or
    from the database) leaves Qualiflow data as it was and the batch failed with the reason."""
    _authorize(by)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status == BatchStatus.VALIDATED:
            _refuse_uncommittable(batch)
            batch.committed_by = by if by is not None and by.is_authenticated else batch.committed_by
        elif batch.status != BatchStatus.QUEUED:
            raise Conflict(ImportsErrorCode.WRONG_STATUS, _("Only a validated or queued batch can be committed."))
        batch.status = BatchStatus.COMMITTING
        batch.save(update_fields=["status", "committed_by", "updated_at"])
    actor = context.user_actor(batch.committed_by) if batch.committed_by else None
    reason = _("Import batch %(batch)s (%(kind)s from %(source)s, file %(file)s)") % {
        "batch": batch.pk, "kind": batch.kind, "source": batch.source_system.code, "file": batch.file_name}
    outcome = None
    try:
        with progress.Tracker(batch.pk, batch.rows) as tracker, context.acting(actor=actor, reason=reason), \
                transaction.atomic():
            outcome = engine.run(_job(batch), writer=engine.Writer(batch.pk), progress=_both(tracker, on_progress))
            if outcome.error_count:
                raise _Refused
            events.emit("imports.batch.committed", f"imports/batch/{batch.pk}", {
                "batch_id": batch.pk, "kind": batch.kind, "source": batch.source_system.code,
                "created": outcome.created, "updated": outcome.updated, "skipped": outcome.skipped})
            _finish(batch, outcome, BatchStatus.COMMITTED)
    except _Refused:
        _finish(batch, outcome, BatchStatus.FAILED, _("Rows failed validation when committing; nothing was written."))
    except Exception as exc:
        logger.exception("import batch %s failed", batch.pk)
        _finish(batch, outcome, BatchStatus.FAILED, _("The database refused the import; nothing was written: %(error)s")
                % {"error": exc})
    return batch


def _both(tracker: Callable[[int], None], extra: Callable[[int], None] | None) -> Callable[[int], None]:
    if extra is None:
        return tracker

    def report(done: int) -> None:
        tracker(done)
        extra(done)

    return report


@transaction.atomic
def _finish(batch: ImportBatch, outcome: engine.Outcome | None, status: str, failure: str = "") -> None:
    if outcome is not None:
        batch.rows = outcome.rows
        batch.created_count, batch.updated_count, batch.skipped_count = outcome.created, outcome.updated, outcome.skipped
        batch.error_count = outcome.error_count
        batch.progress_done = outcome.rows
        if status == BatchStatus.FAILED:
            _store_errors(batch, outcome)
    if status == BatchStatus.FAILED:
        batch.created_count = batch.updated_count = 0
    batch.status = status
    batch.failure = failure
    batch.committed_at = timezone.now() if status == BatchStatus.COMMITTED else None
    batch.save()


def _blockers(model: type[models.Model], objs: list[models.Model], ours: set) -> list[str]:
    """What else would go with removing `objs`: anything referring to them that the batch did not create."""
    collector = Collector(using="default")
    try:
        collector.collect(objs)
    except (ProtectedError, RestrictedError) as exc:
        others = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        return [str(o) for o in list(others)[:3]]
    found = []
    for other_model, instances in collector.data.items():
        found += [str(o) for o in instances if not (other_model is model and o.pk in ours)]
    for queryset in collector.fast_deletes:
        if queryset.model is not model:
            found += [str(o) for o in queryset[:3]]
    found += [str(o) for (_f, _v), groups in collector.field_updates.items() for group in groups for o in group]
    return found[:3]


@transaction.atomic
def batch_rollback(*, batch: ImportBatch, reason: str, by=None) -> ImportBatch:
    """Undo a committed batch completely: rows it created are removed, rows it updated get their values
    back, all audited. Refused, changing nothing, when a row it created is referred to by data added since."""
    _authorize(by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A reason is required to roll back an import."),
                               fields={"reason": [_("State why the import is rolled back.")]},
                               code=CoreErrorCode.REASON_REQUIRED)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != BatchStatus.COMMITTED:
        raise Conflict(ImportsErrorCode.WRONG_STATUS, _("Only a committed batch can be rolled back."))
    audit_reason = _("Rollback of import batch %(batch)s: %(reason)s") % {"batch": batch.pk, "reason": reason}
    with context.acting(reason=audit_reason):
        for change in batch.changes.order_by("-id"):
            model = apps.get_model(change.model)
            if change.action == ChangeAction.UPDATED:
                _restore(model, change.previous)
                continue
            ours = {model._meta.pk.to_python(pk) for pk in change.object_ids}
            objs = list(model._base_manager.filter(pk__in=ours))
            blockers = _blockers(model, objs, ours)
            if blockers:
                raise Conflict(ImportsErrorCode.ROLLBACK_REFUSED, _(
                    "The batch cannot be rolled back: a %(model)s it created is now referred to by %(others)s, "
                    "added since. Nothing was changed.") % {
                    "model": model._meta.verbose_name, "others": "; ".join(blockers)})
            model.objects.filter(pk__in=ours).delete()
        batch.status = BatchStatus.ROLLED_BACK
        batch.rolled_back_at = timezone.now()
        batch.rolled_back_by = by if by is not None and by.is_authenticated else None
        batch.rollback_reason = reason
        batch.save()
        events.emit("imports.batch.rolled_back", f"imports/batch/{batch.pk}", {
            "batch_id": batch.pk, "kind": batch.kind, "source": batch.source_system.code, "reason": reason})
    return batch


def _restore(model: type[models.Model], previous: Mapping[str, Mapping[str, Any]]) -> None:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    objs = model._base_manager.in_bulk([model._meta.pk.to_python(pk) for pk in previous])
    touched: set[str] = set()
    for pk, values in previous.items():
        obj = objs[model._meta.pk.to_python(pk)]
        for attname, value in values.items():
            field = by_attname[attname]
            setattr(obj, attname, field.target_field.to_python(value) if field.is_relation else field.to_python(value))
            touched.add(field.name)
    model.objects.bulk_update(list(objs.values()), sorted(touched), batch_size=1000)
