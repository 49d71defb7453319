"""The daily expiry job: renewal at lead time, reminders, expiry events and escalation of overdue training.

Status stays computed: nothing here decides whether anyone is qualified. The job only tells people in
time and opens the renewal, each once — reruns of the same day (or of any day) repeat nothing: renewal
assignments carry the grant in their source key, notifications a dedupe key, events are looked up by
subject before they are emitted, and an escalated assignment keeps the time it was escalated.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qualiflow.accounts.models import RoleAssignment, User
from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm, Role, ScopeKind
from qualiflow.accounts.services import notification_send
from qualiflow.core import context
from qualiflow.integration import events
from qualiflow.integration.models import OutboxEvent
from qualiflow.people.models import Employee, EmployeeStatus

from ..domain import reconcile as rules
from ..domain import status as domain
from ..models import (
    AssignmentReason,
    AssignmentStatus,
    Course,
    CourseQualification,
    Qualification,
    QualificationGrant,
    TrainingAssignment,
)
from ..selectors.expiry import deciding_grants
from .reconcile import assignment_payload

# Expired grants are reported for this long after they lapsed: enough to cover a job that did not run
# for a while, without rescanning the whole history every day.
EXPIRED_LOOKBACK = dt.timedelta(days=90)
EXPIRY_REASON = gettext_lazy("Renewal opened at the qualification's lead time.")


@dataclass(frozen=True)
class ExpirySummary:
    expiring: int  # grants within their lead time, reported for the first time
    renewals: int  # renewal assignments opened
    expired: int  # grants reported expired for the first time
    overdue: int  # assignments escalated
    notifications: int

    def as_dict(self) -> dict[str, int]:
        return {"expiring": self.expiring, "renewals": self.renewals, "expired": self.expired,
                "overdue": self.overdue, "notifications": self.notifications}


def _reported(event_type: str, subjects: Iterable[str]) -> set[str]:
    return set(OutboxEvent.objects.filter(type=event_type, subject__in=list(subjects)).values_list("subject", flat=True))


def _recipients(*users: User | None) -> list[User]:
    return list({u.pk: u for u in users if u is not None and u.is_active}.values())


def _day(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).date().isoformat()


def _last_day(valid_until: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """valid-until is exclusive: the last day it is valid on, in the site's time zone."""
    return (valid_until - dt.timedelta(microseconds=1)).astimezone(zone).date()


def _grants(q: Q) -> list[QualificationGrant]:
    return list(
        QualificationGrant.objects.filter(q, employee__status=EmployeeStatus.ACTIVE)
        .select_related("qualification", "employee__site", "employee__user", "employee__manager__user")
        .order_by("valid_until", "pk")
    )


def _open_renewals(grants: list[QualificationGrant], at: dt.datetime) -> int:
    """A renewal assignment per expiring grant, unless one was opened for it before or the person already
    has an open assignment for the qualification (e.g. the reconciler's)."""
    keys = {f"{rules.RENEWAL_KEY}{g.pk}" for g in grants}
    made = set(TrainingAssignment.objects.filter(source_key__in=keys).values_list("source_key", flat=True))
    covered = set(TrainingAssignment.objects.filter(
        employee_id__in={g.employee_id for g in grants}, status=AssignmentStatus.OPEN,
        qualification_id__in={g.qualification_id for g in grants},
    ).values_list("employee_id", "qualification_id"))
    courses: dict[UUID, UUID] = {}
    for qualification_id, course_id in CourseQualification.objects.filter(
        qualification_id__in={g.qualification_id for g in grants}, course__is_active=True
    ).order_by("-course__code").values_list("qualification_id", "course_id"):
        courses[qualification_id] = course_id  # the first by code wins
    new = []
    for grant in grants:
        key = f"{rules.RENEWAL_KEY}{grant.pk}"
        course_id = courses.get(grant.qualification_id)
        if key in made or (grant.employee_id, grant.qualification_id) in covered or course_id is None:
            continue
        zone = zoneinfo.ZoneInfo(grant.employee.site.time_zone)
        new.append(TrainingAssignment(
            employee_id=grant.employee_id, course_id=course_id, qualification_id=grant.qualification_id,
            reason=AssignmentReason.RENEWAL, source_key=key, status=AssignmentStatus.OPEN,
            due_on=max(_last_day(grant.valid_until, zone), at.astimezone(zone).date()),
        ))
        covered.add((grant.employee_id, grant.qualification_id))
    TrainingAssignment.objects.bulk_create(new)
    numbers = {g.employee_id: g.employee.employee_number for g in grants}
    codes = dict(Course.objects.filter(pk__in={a.course_id for a in new}).values_list("pk", "code")) if new else {}
    for assignment in new:
        events.emit("training.assignment.created", f"training/assignment/{assignment.pk}", assignment_payload(
            assignment, numbers[assignment.employee_id], codes[assignment.course_id]))
    return len(new)


def _training_page(user: User, employee: Employee) -> str:
    """The employee's training page, for a reader who may open it (operators may not: no link)."""
    if has_perm(user, Perm.TRAINING_VIEW, employee) or (has_perm(user, Perm.TRAINING_VIEW) and employee.user_id == user.pk):
        return reverse("training:employee_training", kwargs={"pk": employee.pk})
    return ""


def _expiring_notifications(grant: QualificationGrant) -> int:
    employee, qualification = grant.employee, grant.qualification
    zone = zoneinfo.ZoneInfo(employee.site.time_zone)
    manager = employee.manager.user if employee.manager_id else None
    sent = 0
    for user in _recipients(employee.user, manager):
        with translation.override(user.language):
            values = {"qualification": qualification.display_name(user.language), "employee": employee.full_name,
                      "number": employee.employee_number, "day": _last_day(grant.valid_until, zone).isoformat()}
            if user == employee.user:
                subject = _("Your qualification %(qualification)s expires soon") % values
                body = _("Your qualification %(qualification)s is valid until %(day)s. A renewal training has been "
                         "planned for you.") % values
            else:
                subject = _("%(employee)s: %(qualification)s expires soon") % values
                body = _("The qualification %(qualification)s of %(employee)s (%(number)s) is valid until %(day)s. "
                         "Please make sure the renewal training takes place in time.") % values
            sent += notification_send(
                recipient=user, kind="training.qualification.expiring", subject=subject, body=body,
                url=_training_page(user, employee), dedupe_key=f"training.expiring:{grant.pk}",
            ) is not None
    return sent


def _coordinators(employees: Iterable[Employee]) -> dict[UUID, list[User]]:
    """The training coordinators whose scope covers each employee (one query)."""
    employees = list(employees)
    rows = RoleAssignment.objects.filter(role=Role.TRAINING_COORDINATOR, user__is_active=True).select_related("user")
    assignments = list(rows)
    found: dict[UUID, list[User]] = defaultdict(list)
    for employee in employees:
        for assignment in assignments:
            if (assignment.scope_kind == ScopeKind.GLOBAL
                    or (assignment.scope_kind == ScopeKind.SITE and assignment.scope_id == employee.site_id)
                    or (assignment.scope_kind == ScopeKind.DEPARTMENT and assignment.scope_id == employee.department_id)
                    or (assignment.scope_kind == ScopeKind.LINE and assignment.scope_id == employee.line_id)):
                found[employee.pk].append(assignment.user)
    return found


def _escalate(assignments: list[TrainingAssignment], at: dt.datetime) -> int:
    coordinators = _coordinators(a.employee for a in assignments)
    sent = 0
    for assignment in assignments:
        employee = assignment.employee
        manager = employee.manager.user if employee.manager_id else None
        for user in _recipients(manager, *coordinators.get(employee.pk, ())):
            with translation.override(user.language):
                values = {"employee": employee.full_name, "number": employee.employee_number,
                          "course": assignment.course.display_name(user.language), "day": assignment.due_on.isoformat()}
                sent += notification_send(
                    recipient=user, kind="training.assignment.overdue",
                    subject=_("Overdue training: %(employee)s, %(course)s") % values,
                    body=_("%(employee)s (%(number)s) has not completed %(course)s, due on %(day)s.") % values,
                    url=_training_page(user, employee), dedupe_key=f"training.overdue:{assignment.pk}",
                ) is not None
        events.emit("training.assignment.overdue", f"training/assignment/{assignment.pk}", {
            "employee_id": employee.pk, "employee_number": employee.employee_number,
            "course_id": assignment.course_id, "qualification_id": assignment.qualification_id,
            "due_on": assignment.due_on, "reason": assignment.reason,
        })
    if assignments:
        TrainingAssignment.objects.filter(pk__in=[a.pk for a in assignments]).update(overdue_notified_at=at)
    return sent


@transaction.atomic
def expiry_run(*, at: dt.datetime) -> ExpirySummary:
    """Everything the expiry job does at `at`: see the module's description."""
    longest_lead = Qualification.objects.aggregate(m=Max("renewal_lead_days"))["m"] or 0
    candidates = [
        g for g in _grants(Q(valid_until__gt=at, valid_until__lte=at + dt.timedelta(days=longest_lead)))
        if g.valid_until - dt.timedelta(days=g.qualification.renewal_lead_days) <= at
    ]
    expiring = [g for g, _status in deciding_grants(candidates, at, {domain.State.EXPIRING})]
    lapsed = _grants(Q(valid_until__lte=at, valid_until__gt=at - EXPIRED_LOOKBACK))
    expired = [g for g, _status in deciding_grants(lapsed, at, {domain.State.EXPIRED})]
    with context.acting(reason=context.current().reason or str(EXPIRY_REASON)):
        renewals = _open_renewals(expiring, at)
        notifications = 0
        subjects = {f"training/grant/{g.pk}": g for g in expiring}
        already = _reported("training.qualification.expiring", subjects)
        for subject, grant in subjects.items():
            notifications += _expiring_notifications(grant)
            if subject not in already:
                events.emit("training.qualification.expiring", subject, _grant_payload(grant))
        expired_subjects = {f"training/grant/{g.pk}": g for g in expired}
        expired_before = _reported("training.qualification.expired", expired_subjects)
        for subject, grant in expired_subjects.items():
            if subject not in expired_before:
                events.emit("training.qualification.expired", subject, _grant_payload(grant))

        overdue = [
            a for a in TrainingAssignment.objects.filter(
                status=AssignmentStatus.OPEN, overdue_notified_at__isnull=True, due_on__lt=at.date() + dt.timedelta(days=1),
            ).select_related("employee__site", "employee__manager__user", "course").select_for_update(of=("self",))
            if a.due_on < at.astimezone(zoneinfo.ZoneInfo(a.employee.site.time_zone)).date()
        ]
        notifications += _escalate(overdue, at)
    return ExpirySummary(
        expiring=len(subjects) - len(already), renewals=renewals,
        expired=len(expired_subjects) - len(expired_before), overdue=len(overdue), notifications=notifications,
    )


def _grant_payload(grant: QualificationGrant) -> dict:
    return {
        "employee_id": grant.employee_id, "employee_number": grant.employee.employee_number,
        "qualification_id": grant.qualification_id, "qualification_code": grant.qualification.code,
        "grant_id": grant.pk, "valid_until": grant.valid_until,
    }
