"""Recording an external or health certificate (证书) a person holds, with its scan, and granting the
qualification it proves in the same transaction.

The scan is judged by its content, not its name: only PDF, PNG and JPEG files are kept, up to
`settings.QUALIFLOW_CERTIFICATE_MAX_BYTES`. It is stored under its SHA-256 (which the certificate also
keeps in full, so a later change of the file is detectable), and written only after every check has passed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualiflow.core import context
from qualiflow.core.validation import full_clean, require_reason
from qualiflow.integration import events
from qualiflow.people.models import Employee

from ..errors import TrainingErrorCode
from ..models import Certificate, GrantSource, Qualification
from . import _authorize, _refuse, _refuse_inactive, qualification_grant

# Leading bytes of the accepted formats, and the extension the stored file gets.
_SIGNATURES = ((b"%PDF-", ".pdf"), (b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"))


def _scan_type(scan: UploadedFile) -> str:
    """The extension of the scan's format by its first bytes; refuses anything else or anything too large."""
    limit = settings.QUALIFLOW_CERTIFICATE_MAX_BYTES
    if scan.size is None or scan.size > limit:
        _refuse("scan", _("The file is larger than %(limit)s MiB.") % {"limit": f"{limit / 1024 / 1024:g}"},
                TrainingErrorCode.CERTIFICATE_FILE_TOO_LARGE)
    scan.seek(0)
    head = scan.read(8)
    scan.seek(0)
    for magic, extension in _SIGNATURES:
        if head.startswith(magic):
            return extension
    _refuse("scan", _("The scan must be a PDF, PNG or JPEG file."), TrainingErrorCode.CERTIFICATE_FILE_TYPE)


def _sha256(scan: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in scan.chunks():
        digest.update(chunk)
    scan.seek(0)
    return digest.hexdigest()


def _start_of(day: dt.date, employee: Employee) -> dt.datetime:
    """Local midnight of `day` at the employee's site: certificates are dated in the plant's calendar."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zoneinfo.ZoneInfo(employee.site.time_zone))


@transaction.atomic
def certificate_record(
    *,
    employee: Employee,
    qualification: Qualification,
    number: str,
    issuer: str,
    issued_on: dt.date,
    expires_on: dt.date | None = None,
    scan: UploadedFile | None = None,
    by=None,
    reason: str,
) -> Certificate:
    """Record a certificate and grant `qualification` from the issue date until the expiry date (without
    one, for the qualification's validity)."""
    reason = require_reason(Certificate, reason)
    employee = Employee.objects.select_for_update(of=("self",)).select_related("site").get(pk=employee.pk)
    _authorize(by, employee)
    _refuse_inactive(qualification)
    code = TrainingErrorCode.CERTIFICATE_INVALID
    number, issuer = (number or "").strip(), (issuer or "").strip()
    if not number:
        _refuse("number", _("Enter the certificate number."), code)
    if not issuer:
        _refuse("issuer", _("Enter who issued the certificate."), code)
    for field, day in (("issued_on", issued_on), ("expires_on", expires_on)):
        if day is not None and (not isinstance(day, dt.date) or isinstance(day, dt.datetime)):
            _refuse(field, _("Enter a date."), code)
    if issued_on is None:
        _refuse("issued_on", _("Enter the issue date."), code)
    if issued_on > timezone.now().astimezone(zoneinfo.ZoneInfo(employee.site.time_zone)).date():
        _refuse("issued_on", _("The issue date cannot be in the future."), code)
    if expires_on is not None and expires_on <= issued_on:
        _refuse("expires_on", _("The expiry date must be after the issue date."), code)
    # A number identifies one certificate of its issuer, whatever it is recorded for.
    if Certificate.objects.filter(issuer__iexact=issuer, number__iexact=number).exists():
        _refuse("number", _("Certificate %(number)s from %(issuer)s is already recorded.") % {
            "number": number, "issuer": issuer}, TrainingErrorCode.CERTIFICATE_DUPLICATE)
    extension = _scan_type(scan) if scan is not None else ""
    certificate = Certificate(
        employee=employee, qualification=qualification, number=number, issuer=issuer, issued_on=issued_on,
        expires_on=expires_on, scan_sha256=_sha256(scan) if scan is not None else "",
    )
    grant = qualification_grant(
        employee=employee, qualification=qualification, valid_from=_start_of(issued_on, employee),
        valid_until=_start_of(expires_on, employee) if expires_on is not None else None,
        source=GrantSource.CERTIFICATE, evidence={"certificate_id": str(certificate.pk)},
        certificate_number=number, issuer=issuer, reason=reason,
    )
    certificate.grant = grant
    full_clean(certificate, exclude=["scan"])
    with context.acting(reason=reason):
        if scan is not None:
            # Named by its hash, so the stored name reveals nothing of the uploaded one; 128 bits of it keep
            # the path within the field's 100 characters.
            certificate.scan.save(f"{certificate.scan_sha256[:32]}{extension}", scan, save=False)
        certificate.save()
        events.emit("training.certificate.recorded", f"training/certificate/{certificate.pk}", {
            "employee_id": employee.pk, "employee_number": employee.employee_number, "certificate_id": certificate.pk,
            "qualification_id": qualification.pk, "qualification_code": qualification.code, "number": number,
            "issuer": issuer, "issued_on": issued_on, "expires_on": expires_on, "grant_id": grant.pk,
            "scan_sha256": certificate.scan_sha256,
        })
    return certificate
