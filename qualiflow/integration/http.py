"""A small keep-alive HTTP client for webhook delivery: one connection per thread and receiver, reused
across calls, with a timeout on connect and on every read. Redirects are not followed."""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

_local = threading.local()
_ERROR_BODY_CHARS = 200


class SendError(Exception):
    """The receiver could not be reached or did not answer in time."""


def _connection(scheme: str, netloc: str, timeout: float) -> http.client.HTTPConnection:
    pool = _local.__dict__.setdefault("connections", {})
    key = (scheme, netloc)
    connection = pool.get(key)
    if connection is None:
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        connection = pool[key] = cls(netloc, timeout=timeout)
    return connection


def _drop(scheme: str, netloc: str) -> None:
    connection = _local.__dict__.get("connections", {}).pop((scheme, netloc), None)
    if connection is not None:
        connection.close()


class _Stale(Exception):
    pass


def _post_once(scheme: str, netloc: str, path: str, body: bytes, headers: dict[str, str],
               timeout: float) -> tuple[int, str]:
    reused = (scheme, netloc) in _local.__dict__.get("connections", {})
    connection = _connection(scheme, netloc, timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
        _drop(scheme, netloc)
        if reused:
            raise _Stale from exc
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    except (OSError, http.client.HTTPException) as exc:
        _drop(scheme, netloc)
        raise SendError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
    if response.will_close:
        _drop(scheme, netloc)
    return response.status, content[:_ERROR_BODY_CHARS].decode("utf-8", "replace")


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> tuple[int, str]:
    """POST `body`; returns (status, the start of the response body). Raises SendError."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        return _post_once(parts.scheme, parts.netloc, path, body, headers, timeout)
    except _Stale:
        # A kept-alive connection the receiver had closed in the meantime: once more on a fresh one.
        return _post_once(parts.scheme, parts.netloc, path, body, headers, timeout)
