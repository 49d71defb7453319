"""Shared by the import tests: a catalogue to import against, files in legacy encodings, and a snapshot of
every table an import may touch, to compare the database before and after."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.apps import apps
from django.db import connection

from qualiflow.imports import services
from qualiflow.training import services as training

# Every table an import or its rollback writes to, apart from the append-only audit trail and outbox.
DOMAIN_MODELS = (
    "people.employee", "org.position", "training.trainingrecord", "training.certificate",
    "training.qualificationgrant", "people.positionassignment",
)


def catalogue() -> dict:
    qualification = training.qualification_create(
        data={"code": "Q-ASM", "name": "洁净组装授权", "validity_days": 365}, reason="set-up")
    welding = training.qualification_create(
        data={"code": "Q-WELD", "name": "焊接证书", "kind": "external_certificate"}, reason="set-up")
    course = training.course_create(data={"code": "C-ASM", "name": "洁净组装培训", "duration_hours": 4,
                                          "max_score": 100, "pass_mark": 60}, confers=[qualification], reason="set-up")
    gmp = training.course_create(data={"code": "C-GMP", "name": "GMP基础", "duration_hours": 2}, reason="set-up")
    return {"qualification": qualification, "welding": welding, "course": course, "gmp": gmp}


def write_csv(path: Path, header: list[str], rows: list[list], *, encoding: str = "utf-8") -> Path:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def upload(path: Path, *, kind: str, source, by=None, columns=None, values=None):
    with path.open("rb") as handle:
        return services.batch_upload(kind=kind, source=source, file=handle, file_name=path.name, by=by,
                                     columns=columns, values=values)


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every domain table, all columns, in key order."""
    tables = {}
    for label in DOMAIN_MODELS:
        model = apps.get_model(label)
        fields = [f.attname for f in model._meta.concrete_fields]
        tables[label] = sorted(tuple(str(v) for v in row) for row in model._base_manager.values_list(*fields))
    return tables


def audit_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM audit_auditentry")
        return cursor.fetchone()[0]
