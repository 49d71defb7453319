"""Recording a certificate: the scan is judged by its content and size, the number is unique per issuer,
the dates are consistent; a recorded certificate grants its qualification in the same transaction and a
refused one writes nothing (no row, no grant, no audit entry, no event, no file)."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qualiflow.audit.models import AuditEntry
from qualiflow.core.errors import PermissionDenied, ValidationFailed
from qualiflow.integration.models import OutboxEvent
from qualiflow.training import services
from qualiflow.training.models import Certificate, QualificationGrant
from qualiflow.training.services.certificates import certificate_record

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
ISSUED = dt.date(2025, 3, 10)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def licence(db):
    return services.qualification_create(
        data={"code": "Q-BOILER", "name": "特种设备作业人员证 锅炉", "name_en": "Boiler operator licence",
              "kind": "external_certificate", "validity_days": 1460, "renewal_lead_days": 90},
        reason="catalogue set-up",
    )


def _written(media) -> tuple[int, ...]:
    return (Certificate.objects.count(), QualificationGrant.objects.count(), AuditEntry.objects.count(),
            OutboxEvent.objects.count(), sum(1 for p in media.rglob("*") if p.is_file()))


def _record(employee, qualification, by, **overrides):
    values = {"employee": employee, "qualification": qualification, "number": "TS-2025-000123",
              "issuer": "江苏省市场监督管理局", "issued_on": ISSUED, "expires_on": dt.date(2029, 3, 10),
              "scan": SimpleUploadedFile("licence.pdf", PDF, content_type="application/pdf"), "by": by,
              "reason": "licence presented by the employee"}
    return certificate_record(**{**values, **overrides})


def test_certificate_grants_its_qualification(make_employee, licence, coordinator, media):
    employee = make_employee()
    certificate = _record(employee, licence, coordinator)

    assert certificate.scan_sha256 == hashlib.sha256(PDF).hexdigest()
    assert certificate.scan.name == f"certificates/{employee.pk}/{hashlib.sha256(PDF).hexdigest()[:32]}.pdf"
    assert (media / certificate.scan.name).read_bytes() == PDF
    grant = certificate.grant
    assert (grant.source, grant.certificate_number, grant.issuer) == (
        "certificate", "TS-2025-000123", "江苏省市场监督管理局")
    assert grant.valid_from == dt.datetime(2025, 3, 10, tzinfo=SHANGHAI)
    assert grant.valid_until == dt.datetime(2029, 3, 10, tzinfo=SHANGHAI)
    assert grant.evidence == {"certificate_id": str(certificate.pk)}
    (recorded,) = OutboxEvent.objects.filter(type="training.certificate.recorded")
    assert (recorded.data["number"], recorded.data["grant_id"]) == ("TS-2025-000123", str(grant.pk))
    assert OutboxEvent.objects.filter(type="training.qualification.granted", data__grant_id=str(grant.pk)).count() == 1
    entry = AuditEntry.objects.get(object_type="training.certificate", object_id=str(certificate.pk))
    assert entry.reason == "licence presented by the employee"


@pytest.mark.parametrize("content", [PNG, JPEG])
def test_images_are_accepted_and_no_expiry_takes_the_qualification_validity(make_employee, licence, content):
    certificate = _record(make_employee(), licence, None, expires_on=None, number=f"N-{content[:2].hex()}",
                          scan=SimpleUploadedFile("scan.bin", content))
    assert certificate.scan.name.endswith(".png" if content == PNG else ".jpg")
    assert certificate.grant.valid_until == certificate.grant.valid_from + dt.timedelta(days=1460)


@pytest.mark.parametrize("content, name", [
    (b"MZ\x90\x00 not a document", "licence.pdf"),  # an executable named like a PDF
    (b"<html><body>licence</body></html>", "licence.png"),
    (b"", "empty.pdf"),
    (b"PK\x03\x04 zipped office file", "licence.docx"),
])
def test_a_file_that_is_not_a_pdf_or_image_is_refused(make_employee, licence, coordinator, media, content, name):
    employee = make_employee()
    before = _written(media)
    with pytest.raises(ValidationFailed) as refused:
        _record(employee, licence, coordinator, scan=SimpleUploadedFile(name, content, content_type="application/pdf"))
    assert refused.value.code == "training.certificate_file_type" and "scan" in refused.value.fields
    assert _written(media) == before


def test_a_file_over_the_limit_is_refused(make_employee, licence, coordinator, media, settings):
    settings.QUALIFLOW_CERTIFICATE_MAX_BYTES = 1024
    employee = make_employee()
    before = _written(media)
    with pytest.raises(ValidationFailed) as refused:
        _record(employee, licence, coordinator, scan=SimpleUploadedFile("big.pdf", PDF + b"0" * 1024))
    assert refused.value.code == "training.certificate_file_too_large"
    assert _written(media) == before
    _record(employee, licence, coordinator, scan=SimpleUploadedFile("small.pdf", PDF))  # within the limit


def test_duplicate_number_and_bad_dates_are_refused(make_employee, licence, coordinator, media):
    employee, colleague = make_employee(), make_employee()
    _record(employee, licence, coordinator)
    before = _written(media)
    with pytest.raises(ValidationFailed) as duplicate:
        _record(colleague, licence, coordinator, number=" ts-2025-000123 ")
    assert duplicate.value.code == "training.certificate_duplicate"
    for expires_on in (ISSUED, ISSUED - dt.timedelta(days=1)):
        with pytest.raises(ValidationFailed) as refused:
            _record(employee, licence, coordinator, number="TS-2", expires_on=expires_on)
        assert refused.value.code == "training.certificate_invalid" and "expires_on" in refused.value.fields
    with pytest.raises(ValidationFailed) as future:
        _record(employee, licence, coordinator, number="TS-3", issued_on=dt.date.today() + dt.timedelta(days=5),
                expires_on=None)
    assert future.value.code == "training.certificate_invalid"
    with pytest.raises(ValidationFailed) as no_reason:
        _record(employee, licence, coordinator, number="TS-4", reason="")
    assert no_reason.value.code == "core.reason_required"
    assert _written(media) == before


def test_out_of_scope_coordinator_cannot_record(make_employee, licence, make_user, plant, media):
    outsider = make_user("training_coordinator", scope_kind="site", scope_id=plant.site_b.pk)
    employee = make_employee()
    before = _written(media)
    with pytest.raises(PermissionDenied):
        _record(employee, licence, outsider)
    assert _written(media) == before
