"""What every app's pages share: the permission check, the posted data, a record or a 404, and the
message-and-redirect after a successful write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect

from qualiflow.core.errors import NotFound

from .permissions import Scoped, has_perm

T = TypeVar("T")


def require(request: HttpRequest, perm: str, place: Scoped | None = None) -> None:
    """403 unless the user holds `perm` (over `place`, when given)."""
    if not has_perm(request.user, perm, place):
        raise PermissionDenied


def posted(request: HttpRequest):
    """The submitted data on POST (even when empty, so an empty form is validated, not shown afresh)."""
    return request.POST if request.method == "POST" else None


def found(getter: Callable[..., T], /, **kwargs: Any) -> T:
    """What a selector returns, or a 404 when it finds nothing the reader may see."""
    try:
        return getter(**kwargs)
    except NotFound as exc:
        raise Http404 from exc


def done(request: HttpRequest, message: str, url: str) -> HttpResponseRedirect:
    messages.success(request, message)
    return redirect(url)
