"""The daily expiry job: renewal, reminders in the user's language, events and escalation, each once."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from qualiflow.accounts.models import Notification
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.core.models import JobRun
from qualiflow.integration.models import OutboxEvent
from qualiflow.training import services
from qualiflow.training.models import AssignmentReason, AssignmentStatus, GrantSource, TrainingAssignment
from qualiflow.training.services.expiry import expiry_run

NOW = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def eo_course(eo_operator):
    return services.course_create(data={"code": "C-EO", "name": "灭菌培训", "duration_hours": 4}, confers=[eo_operator],
                                  reason="set-up")


@pytest.fixture
def holder(plant, make_employee, make_user, eo_operator, eo_course):
    manager = make_employee(user=make_user(username="boss", language="en", email="boss@example.com"))
    employee = make_employee(user=make_user(username="li", language="zh-hans", email="li@example.com"), manager=manager)
    grant = services.qualification_grant(employee=employee, qualification=eo_operator,
                                         valid_from=NOW - dt.timedelta(days=350), source=GrantSource.MANUAL, reason="held")
    return employee, grant


def test_expiring_grant_is_renewed_notified_and_reported_once(holder, django_capture_on_commit_callbacks):
    employee, grant = holder
    with django_capture_on_commit_callbacks(execute=True):
        first = expiry_run(at=NOW)
    assert (first.expiring, first.renewals, first.notifications) == (1, 1, 2)
    [renewal] = TrainingAssignment.objects.filter(employee=employee)
    assert (renewal.reason, renewal.source_key, renewal.status) == (
        AssignmentReason.RENEWAL, f"renewal:{grant.pk}", AssignmentStatus.OPEN)
    assert OutboxEvent.objects.filter(type="training.qualification.expiring").count() == 1
    mails = {m.to[0]: m for m in mail.outbox}
    assert set(mails) == {"li@example.com", "boss@example.com"}
    # Each in the recipient's language (the qualification's name shows it before the catalogue does).
    assert "环氧乙烷灭菌操作资质" in mails["li@example.com"].subject
    assert "EO steriliser operator" in mails["boss@example.com"].subject
    assert "EO steriliser operator" not in mails["li@example.com"].subject + mails["li@example.com"].body

    with django_capture_on_commit_callbacks(execute=True):
        second = expiry_run(at=NOW + dt.timedelta(days=1))
    assert (second.expiring, second.renewals, second.notifications) == (0, 0, 0)
    assert Notification.objects.count() == 2
    assert len(mail.outbox) == 2
    assert TrainingAssignment.objects.count() == 1
    assert OutboxEvent.objects.filter(type="training.qualification.expiring").count() == 1


def test_renewed_grant_is_not_expiring(holder, eo_operator):
    employee, _grant = holder
    services.qualification_grant(employee=employee, qualification=eo_operator, valid_from=NOW - dt.timedelta(days=1),
                                 source=GrantSource.MANUAL, reason="renewed")
    assert expiry_run(at=NOW).expiring == 0
    assert Notification.objects.count() == 0


def test_expired_grant_is_reported_once(holder):
    later = NOW + dt.timedelta(days=20)
    assert expiry_run(at=later).expired == 1
    assert expiry_run(at=later).expired == 0
    assert OutboxEvent.objects.filter(type="training.qualification.expired").count() == 1


def test_overdue_assignment_escalates_once(plant, holder, make_user, django_capture_on_commit_callbacks):
    holder_employee, _grant = holder
    assert holder_employee.manager is not None
    coordinator = make_user(Role.TRAINING_COORDINATOR, scope_kind=ScopeKind.SITE, scope_id=plant.site_a.pk,
                            email="coord@example.com")
    elsewhere = make_user(Role.TRAINING_COORDINATOR, scope_kind=ScopeKind.SITE, scope_id=plant.site_b.pk,
                          email="other@example.com")
    expiry_run(at=NOW)
    [renewal] = TrainingAssignment.objects.all()
    mail.outbox.clear()
    overdue_at = NOW + dt.timedelta(days=40)
    with django_capture_on_commit_callbacks(execute=True):
        summary = expiry_run(at=overdue_at)
    assert summary.overdue == 1
    recipients = set(Notification.objects.filter(kind="training.assignment.overdue").values_list("recipient__username", flat=True))
    assert recipients == {"boss", coordinator.username}
    assert elsewhere.username not in recipients
    assert {m.to[0] for m in mail.outbox} == {"boss@example.com", "coord@example.com"}
    # The coordinator may open the person's training page; the manager, without training.view, gets no link.
    links = dict(Notification.objects.filter(kind="training.assignment.overdue").values_list("recipient__username", "url"))
    assert links == {coordinator.username: reverse("training:employee_training", kwargs={"pk": holder_employee.pk}),
                     "boss": ""}
    renewal.refresh_from_db()
    assert renewal.overdue_notified_at == overdue_at
    assert expiry_run(at=overdue_at + dt.timedelta(days=1)).overdue == 0
    assert OutboxEvent.objects.filter(type="training.assignment.overdue").count() == 1


def test_daily_command_and_worker_run_once_per_day(holder, settings):
    settings.QUALIFLOW_DAILY_AT = "00:00"
    call_command("worker", "--once")
    call_command("worker", "--once")
    [run] = JobRun.objects.all()
    assert run.job == "training_daily" and run.succeeded, run.output
    assert "expiry:" in run.output


def test_worker_waits_for_the_daily_time(holder, settings):
    settings.QUALIFLOW_DAILY_AT = "23:59:59.999999"
    from qualiflow.core.management.commands.worker import run_due

    assert run_due(dt.datetime(2026, 6, 1, 23, 0, tzinfo=dt.UTC)) == []
    assert JobRun.objects.count() == 0


def test_daily_command_at_a_given_moment(holder):
    out = io.StringIO()
    call_command("training_daily", "--at", NOW.isoformat(), stdout=out)
    assert "renewals 1" in out.getvalue()
    call_command("training_daily", "--at", NOW.isoformat(), stdout=out)
    assert TrainingAssignment.objects.count() == 1


def test_daily_command_refuses_a_naive_moment():
    with pytest.raises(CommandError):
        call_command("training_daily", "--at", "2026-06-01T02:00")
