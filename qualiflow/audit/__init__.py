"""The audit trail. Domain code calls `audit.record(...)` / `audit.record_many(...)`; models that must be
audited on every write path inherit `qualiflow.audit.tracking.AuditedModel`."""


def record(**kwargs):
    from .recorder import record as _record

    return _record(**kwargs)


def record_many(items, **kwargs):
    from .recorder import record_many as _record_many

    return _record_many(items, **kwargs)
