"""The import loop of the worker: commits queued batches in the background, oldest first."""

from __future__ import annotations

from qualiflow.core.errors import Conflict

from . import services
from .models import BatchStatus, ImportBatch


def run_once() -> int:
    """Commit every batch queued now; returns how many this worker processed (committed or failed).

    Several workers may poll at once: `batch_commit` takes the batch under a row lock and refuses one that
    is no longer queued, so each batch is committed by exactly one of them."""
    done = 0
    while True:
        batch = ImportBatch.objects.filter(status=BatchStatus.QUEUED).order_by("created_at").first()
        if batch is None:
            return done
        try:
            services.batch_commit(batch=batch)
        except Conflict:
            continue
        done += 1
