"""What a rule's actions would do with one event, worked out without writing anything: whom they concern,
which course, which message to whom, which request to which address. The engine carries a plan out; the
dry run ("test against an event") only shows it.

A plan step that cannot be carried out (the event names nobody, the course is no longer in use) carries
the problem as a message, and the engine records it as the action's failure.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from qualiflow.accounts.models import ESignature, RoleAssignment, User
from qualiflow.accounts.roles import ScopeKind
from qualiflow.equipment.models import Equipment
from qualiflow.integration.models import OutboxEvent
from qualiflow.org.models import Position, Site
from qualiflow.people.models import Employee, EmployeeStatus
from qualiflow.production.models import OperationRun, WorkOrder
from qualiflow.training.domain.status import ALLOWED_STATES
from qualiflow.training.models import (
    AssignmentStatus,
    Course,
    CourseQualification,
    Qualification,
    QualificationSuspension,
    TrainingAssignment,
)

from .domain import actions as spec
from .domain.condition import MISSING, lookup
from .models import AutomationRule

NOTIFICATION_KIND = "automation.rule"


@dataclass
class Step:
    """One action of a rule, resolved against one event."""

    type: str
    lines: list[str] = field(default_factory=list)  # what it would do, for the reader
    problem: str = ""  # why it cannot be carried out
    work: list[dict[str, Any]] = field(default_factory=list)  # what the engine does, item by item
    nothing: str = ""  # why there is nothing to do (e.g. already assigned)


def source_key(rule: AutomationRule, event: OutboxEvent) -> str:
    return f"automation:{rule.pk}:{event.id}"


# ---- what an event concerns ---------------------------------------------------------------------------


def _value(cloud: dict[str, Any], path: str | tuple[str, ...]) -> Any:
    value = lookup(cloud, tuple(path.split(".")) if isinstance(path, str) else path)
    return None if value is MISSING else value


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _employee(value: Any) -> Employee | None:
    """An employee named by id or by employee number."""
    if value is None or isinstance(value, dict | list | bool):
        return None
    queryset = Employee.objects.select_related("site", "manager__user", "user")
    pk = _uuid(value)
    found = queryset.filter(pk=pk).first() if pk else None
    return found or queryset.filter(employee_number=str(value)).first()


def person(cloud: dict[str, Any], who: dict[str, str] | None = None) -> Employee | None:
    path = spec.person_path(who, cloud)
    return _employee(_value(cloud, path)) if path is not None else None


def place(cloud: dict[str, Any]) -> SimpleNamespace | None:
    """Where in the organisation the event happened, for role holders "in the event's scope": the work
    order's line, the asset's site and line, the person's site, department and line, or the site named."""
    number = _value(cloud, "data.work_order")
    if isinstance(number, str):
        order = WorkOrder.objects.select_related("line").filter(number=number).first()
        if order is not None:
            return SimpleNamespace(site_id=order.line.site_id, department_id=order.line.department_id,
                                   line_id=order.line_id)
    equipment_id = _uuid(_value(cloud, "data.equipment_id"))
    if equipment_id is not None:
        asset = Equipment.objects.select_related("line").filter(pk=equipment_id).first()
        if asset is not None:
            return SimpleNamespace(site_id=asset.site_id, line_id=asset.line_id,
                                   department_id=asset.line.department_id if asset.line_id else None)
    employee = person(cloud)
    if employee is not None:
        return SimpleNamespace(site_id=employee.site_id, department_id=employee.department_id, line_id=employee.line_id)
    site_id = _uuid(_value(cloud, "data.site_id"))
    if site_id is not None and Site.objects.filter(pk=site_id).exists():
        return SimpleNamespace(site_id=site_id, department_id=None, line_id=None)
    return None


def _covers(assignment: RoleAssignment, where: SimpleNamespace | None) -> bool:
    if assignment.scope_kind == ScopeKind.GLOBAL:
        return True
    if where is None:
        return False
    return assignment.scope_id == {
        ScopeKind.SITE: where.site_id, ScopeKind.DEPARTMENT: where.department_id, ScopeKind.LINE: where.line_id,
    }.get(assignment.scope_kind)


def role_holders(role: str, where: SimpleNamespace | None, *, anywhere: bool) -> list[User]:
    rows = RoleAssignment.objects.filter(role=role, user__is_active=True).select_related("user").order_by("user__username")
    return list({a.user_id: a.user for a in rows if anywhere or _covers(a, where)}.values())


# ---- steps --------------------------------------------------------------------------------------------


def _employees(action: spec.Action, cloud: dict[str, Any]) -> tuple[list[Employee], str]:
    who = action.params.get("who")
    if who is None or "employee" in who:
        employee = person(cloud, who)
        return ([employee], "") if employee else ([], _("The event names no employee."))
    kind, path = next(iter(who.items()))
    value = _value(cloud, path)
    if kind == "employees":
        if not isinstance(value, list):
            return [], _("The event has no list of employees at %(path)s.") % {"path": path}
        found = [_employee(v) for v in value]
        return [e for e in found if e is not None], ""
    if kind == "position":
        position = None
        if isinstance(value, str | int) and not isinstance(value, bool):
            pk = _uuid(value)
            position = (Position.objects.filter(pk=pk).first() if pk else None) or Position.objects.filter(
                code=str(value)).first()
        if position is None:
            return [], _("The event names no position at %(path)s.") % {"path": path}
        return list(Employee.objects.filter(position=position, status=EmployeeStatus.ACTIVE)
                    .select_related("site").order_by("employee_number")), ""
    run = OperationRun.objects.select_related("operator__site").filter(pk=_uuid(value)).first() if _uuid(value) else None
    if run is None:
        return [], _("The event names no operation run at %(path)s.") % {"path": path}
    return [run.operator], ""


def _courses(action: spec.Action, cloud: dict[str, Any]) -> tuple[list[tuple[Course, Qualification | None]], str]:
    if action.params.get("course"):
        course = Course.objects.filter(code=action.params["course"]).first()
        if course is None or not course.is_active:
            return [], _("The course %(code)s is not in use.") % {"code": action.params["course"]}
        return [(course, None)], ""
    path = action.params["course_for_run"]
    run_id = _uuid(_value(cloud, path))
    run = OperationRun.objects.filter(pk=run_id).first() if run_id else None
    if run is None:
        return [], _("The event names no operation run at %(path)s.") % {"path": path}
    missing = [q["qualification_id"] for q in (run.decision or {}).get("qualifications", [])
               if q.get("state") not in ALLOWED_STATES]
    chosen: dict[Any, tuple[Course, Qualification]] = {}
    for link in (CourseQualification.objects.filter(qualification_id__in=missing, course__is_active=True)
                 .select_related("course", "qualification").order_by("course__code")):
        chosen.setdefault(link.qualification_id, (link.course, link.qualification))
    if not chosen:
        return [], _("No course in use confers what the gate found missing at that run.")
    return list(chosen.values()), ""


def _local_today(employee: Employee) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(employee.site.time_zone)).date()


def _assign_training(action: spec.Action, cloud: dict[str, Any], rule: AutomationRule, event: OutboxEvent) -> Step:
    step = Step(action.type)
    employees, problem = _employees(action, cloud)
    courses, course_problem = _courses(action, cloud)
    step.problem = problem or course_problem
    if step.problem:
        return step
    if not employees:
        step.nothing = _("The event names no employee.")
        return step
    open_pairs = set(TrainingAssignment.objects.filter(
        employee__in=employees, course__in=[c for c, _q in courses], status=AssignmentStatus.OPEN,
    ).values_list("employee_id", "course_id"))
    for employee in employees:
        for course, qualification in courses:
            values = {"employee": employee.full_name, "number": employee.employee_number, "course": course.code}
            if (employee.pk, course.pk) in open_pairs or not employee.is_active:
                step.lines.append(_("%(employee)s (%(number)s) already has %(course)s open or is no longer employed: "
                                    "nothing to assign.") % values)
                continue
            due_on = _local_today(employee) + dt.timedelta(days=action.params["due_days"])
            step.lines.append(_("Assign %(course)s to %(employee)s (%(number)s), due on %(day)s.") % {
                **values, "day": due_on.isoformat()})
            step.work.append({"employee": employee, "course": course, "qualification": qualification, "due_on": due_on,
                              "reason": action.params["reason"], "source_key": source_key(rule, event)})
    if not step.work:
        step.nothing = _("Everyone concerned already has the training open.")
    return step


def _recipients(action: spec.Action, cloud: dict[str, Any]) -> tuple[list[User], list[str]]:
    users: dict[Any, User] = {}
    notes: list[str] = []
    where = None
    for item in action.params["to"]:
        if item in ("person", "manager"):
            employee = person(cloud)
            user = employee.user if employee and item == "person" else (
                employee.manager.user if employee and employee.manager_id else None)
            if user is None:
                notes.append(_("The person has no user account.") if item == "person"
                             else _("The person has no manager with a user account."))
                continue
            users.setdefault(user.pk, user)
        elif "user" in item:
            user = User.objects.filter(username=item["user"], is_active=True).first()
            if user is None:
                notes.append(_("No active user %(username)s.") % {"username": item["user"]})
                continue
            users.setdefault(user.pk, user)
        else:
            if where is None:
                where = place(cloud)
            for user in role_holders(item["role"], where, anywhere=item["scope"] == "anywhere"):
                users.setdefault(user.pk, user)
    return [u for u in users.values() if u.is_active], notes


def _notify(action: spec.Action, cloud: dict[str, Any], rule: AutomationRule, event: OutboxEvent) -> Step:
    step = Step(action.type)
    recipients, notes = _recipients(action, cloud)
    step.lines.extend(notes)
    for user in recipients:
        with translation.override(user.language):
            subject = spec.render(action.params["subject"], cloud, user.language)
            body = spec.render(action.params["body"], cloud, user.language) if action.params["body"] else ""
        dedupe = (spec.render(action.params["dedupe"], cloud, user.language) if action.params["dedupe"]
                  else source_key(rule, event))
        step.lines.append(_("Notify %(user)s: “%(subject)s”") % {"user": user.printed_name, "subject": subject})
        step.work.append({"recipient": user, "subject": subject, "body": body, "email": action.params["email"],
                          "dedupe_key": dedupe[:200]})
    if not step.work:
        step.nothing = _("Nobody to notify.")
    return step


def _im_webhook(action: spec.Action, cloud: dict[str, Any]) -> Step:
    text = spec.render(action.params["text"], cloud, settings.LANGUAGE_CODE)
    body = spec.im_message(action.params["platform"], text)
    step = Step(action.type, lines=[_("Post a %(platform)s robot message to %(url)s: %(text)s") % {
        "platform": action.params["platform"], "url": action.params["url"], "text": text}])
    step.work.append({"url": action.params["url"], "body": body, "timeout": spec.DEFAULT_TIMEOUT, "robot": True})
    return step


def _call_webhook(action: spec.Action, cloud: dict[str, Any]) -> Step:
    step = Step(action.type, lines=[_("POST the event (CloudEvents JSON) to %(url)s.") % {"url": action.params["url"]}])
    step.work.append({"url": action.params["url"], "body": cloud, "timeout": action.params["timeout"], "robot": False})
    return step


def _suspend(action: spec.Action, cloud: dict[str, Any], rule: AutomationRule, event: OutboxEvent) -> Step:
    step = Step(action.type)
    employee = person(cloud, action.params["who"])
    code = action.params["qualification"]
    if code:
        qualification = Qualification.objects.filter(code=code).first()
    else:
        qualification_id = _uuid(_value(cloud, "data.qualification_id"))
        qualification = Qualification.objects.filter(pk=qualification_id).first() if qualification_id else None
    if employee is None or qualification is None:
        step.problem = (_("The event names no employee.") if employee is None
                        else _("The event names no qualification."))
        return step
    now = timezone.now()
    values = {"employee": employee.full_name, "number": employee.employee_number, "qualification": qualification.code}
    if QualificationSuspension.objects.filter(employee=employee, qualification=qualification, start__lte=now).exclude(
            end__lte=now).exists():
        step.nothing = _("%(qualification)s of %(employee)s (%(number)s) is already suspended.") % values
        return step
    end = now + dt.timedelta(days=action.params["days"]) if action.params["days"] else None
    step.lines.append(
        _("Suspend %(qualification)s of %(employee)s (%(number)s) until %(day)s.") % {**values, "day": end.date().isoformat()}
        if end else _("Suspend %(qualification)s of %(employee)s (%(number)s) until lifted.") % values
    )
    step.work.append({"employee": employee, "qualification": qualification, "start": now, "end": end})
    return step


def plan(rule: AutomationRule, actions: tuple[spec.Action, ...], event: OutboxEvent) -> list[Step]:
    """The steps of `actions` for `event`, in order."""
    cloud = event.as_cloudevent()
    steps = []
    for action in actions:
        if action.type == "assign_training":
            steps.append(_assign_training(action, cloud, rule, event))
        elif action.type == "notify":
            steps.append(_notify(action, cloud, rule, event))
        elif action.type == "im_webhook":
            steps.append(_im_webhook(action, cloud))
        elif action.type == "call_webhook":
            steps.append(_call_webhook(action, cloud))
        else:
            steps.append(_suspend(action, cloud, rule, event))
    return steps


def approval_of(rule: AutomationRule) -> ESignature | None:
    return ESignature.objects.select_related("signer").filter(pk=rule.approval_id).first() if rule.approval_id else None
