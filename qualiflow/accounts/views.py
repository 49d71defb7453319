from uuid import UUID

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import activate
from django.views.decorators.http import require_POST

from qualiflow import audit
from qualiflow.audit.models import AuditAction
from qualiflow.audit.tracking import object_type
from qualiflow.core import context

from .models import Notification, User
from .services import notifications_mark_read, user_set_language

USER_TYPE = object_type(User)
# Whoever tries a password is not known yet: the trail names the attempt, not a user.
ANONYMOUS = context.Actor(kind="anonymous", id="", name="anonymous")


def _client(request) -> dict:
    return {"remote_addr": [None, request.META.get("REMOTE_ADDR", "")]}


class LoginView(auth_views.LoginView):
    """Sign-in; every success and failure goes to the audit trail (axes counts the failures and locks)."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        with context.acting(actor=context.user_actor(user)):
            audit.record(
                action=AuditAction.LOGIN, object_type=USER_TYPE, object_id=str(user.pk),
                object_repr=user.get_username(), changes=_client(self.request),
            )
        return response

    def form_invalid(self, form):
        attempted = str(form.data.get("username", ""))
        with context.acting(actor=ANONYMOUS):
            audit.record(
                action=AuditAction.LOGIN_FAILED, object_type=USER_TYPE, object_id=attempted[:64],
                object_repr=attempted, changes=_client(self.request),
            )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            audit.record(
                action=AuditAction.LOGOUT, object_type=USER_TYPE, object_id=str(user.pk),
                object_repr=user.get_username(), changes=_client(request),
            )
        return super().post(request, *args, **kwargs)


@require_POST
def set_language(request):
    """Per-user language: stored on the user (so e-mails and the API follow it) and in a cookie."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    activate(language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response


NOTIFICATION_PAGE_SIZE = 25


@login_required
def notification_list(request):
    """The signed-in user's own notifications, newest first; nobody else's are ever shown."""
    notifications = Notification.objects.filter(recipient=request.user).order_by("-created_at")
    page = Paginator(notifications, NOTIFICATION_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request):
    """Mark one notification read (and follow its link), or all of them."""
    pk = request.POST.get("notification", "")
    if not pk:
        notifications_mark_read(user=request.user)
        return redirect("accounts:notifications")
    try:
        notification = Notification.objects.get(recipient=request.user, pk=UUID(pk))
    except (ValueError, Notification.DoesNotExist) as exc:
        raise Http404 from exc
    notifications_mark_read(user=request.user, notification_ids=[notification.pk])
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(notification.url)
    return redirect("accounts:notifications")
