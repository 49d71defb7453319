"""/api/v1/: ninja's routes, each run with the caller's language in force and answering JSON even for
unknown paths and methods."""

from __future__ import annotations

import functools

from django.http import Http404
from django.urls import URLPattern, include, path, re_path
from django.utils import translation

from .main import api, method_not_allowed, not_found


def _in_callers_language(view):
    """The authenticated caller's language applies for this request only (and names itself in
    Content-Language); ninja's plain-text 405 and root 404 become our error shape."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with translation.override(translation.get_language()):
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                return not_found(request)
            if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
                return method_not_allowed(request, response["Allow"])
            response.headers.setdefault("Content-Language", translation.get_language())
        return response

    return wrapper


def _wrapped(patterns):
    return [
        URLPattern(p.pattern, _in_callers_language(p.callback), p.default_args, p.name) if isinstance(p, URLPattern) else p
        for p in patterns
    ]


_patterns, _app_name, _namespace = api.urls

urlpatterns = [
    path("", include((_wrapped(_patterns), _app_name), namespace=_namespace)),
    re_path(r"^", not_found),
]
