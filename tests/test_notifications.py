"""In-app notifications: sent once per dedupe key, mirrored by e-mail after commit, the inbox and the bell."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from qualiflow.accounts.models import Notification
from qualiflow.accounts.services import notification_send


def test_sent_once_and_mailed_after_commit(make_user, django_capture_on_commit_callbacks):
    user = make_user(email="li@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        first = notification_send(recipient=user, kind="test", subject="Hello", body="Body", url="/training/expiring/",
                                  dedupe_key="k1")
        again = notification_send(recipient=user, kind="test", subject="Hello", dedupe_key="k1")
    assert first is not None and again is None
    assert Notification.objects.count() == 1
    [message] = mail.outbox
    assert message.to == ["li@example.com"] and message.subject == "Hello"
    assert message.body.startswith("Body") and message.body.endswith("/training/expiring/")
    first.refresh_from_db()
    assert first.emailed_at is not None


def test_no_mail_without_an_address_and_nothing_for_inactive_users(make_user, django_capture_on_commit_callbacks):
    user = make_user()
    inactive = make_user(email="gone@example.com")
    inactive.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_send(recipient=user, kind="test", subject="S") is not None
        assert notification_send(recipient=inactive, kind="test", subject="S") is None
    assert mail.outbox == []


def test_inbox_shows_only_my_notifications_and_marks_them_read(client, make_user):
    me, other = make_user(), make_user()
    mine = notification_send(recipient=me, kind="test", subject="Mine", url="/training/expiring/")
    notification_send(recipient=other, kind="test", subject="Theirs")
    client.force_login(me)
    page = client.get(reverse("accounts:notifications")).content.decode()
    assert "Mine" in page and "Theirs" not in page
    assert 'class="badge warn">1<' in page
    response = client.post(reverse("accounts:notifications_read"), {"notification": str(mine.pk)})
    assert response.status_code == 302 and response.url == "/training/expiring/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    theirs = Notification.objects.get(recipient=other)
    assert client.post(reverse("accounts:notifications_read"), {"notification": str(theirs.pk)}).status_code == 404
    assert client.post(reverse("accounts:notifications_read"), {"notification": "junk"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(client, make_user):
    me = make_user()
    for n in range(3):
        notification_send(recipient=me, kind="test", subject=f"S{n}")
    client.force_login(me)
    assert client.post(reverse("accounts:notifications_read")).status_code == 302
    assert not Notification.objects.filter(recipient=me, read_at__isnull=True).exists()
    assert 'class="badge warn"' not in client.get(reverse("accounts:notifications")).content.decode()
