"""Who is acting and why, for the length of one request, command or job.

Audit entries and events read this instead of taking the actor as an argument everywhere, so a write
made from the UI, the API, an import, the admin or the shell is attributed the same way.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Actor:
    kind: str  # "user", "system", "integration", "shell"
    id: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


SYSTEM = Actor(kind="system", id="", name="qualiflow")


@dataclass(frozen=True)
class RequestContext:
    actor: Actor = SYSTEM
    request_id: str = ""
    reason: str = ""


_DEFAULT = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("qualiflow_request_context")


def current() -> RequestContext:
    return _current.get(_DEFAULT)


@contextlib.contextmanager
def acting(
    *, actor: Actor | None = None, request_id: str | None = None, reason: str | None = None
) -> Iterator[RequestContext]:
    """Set actor, request id and/or reason for the enclosed block; unspecified parts are inherited."""
    base = _current.get(_DEFAULT)
    ctx = replace(
        base,
        actor=actor if actor is not None else base.actor,
        request_id=request_id if request_id is not None else (base.request_id or uuid.uuid4().hex),
        reason=reason if reason is not None else base.reason,
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def bind(*, actor: Actor) -> None:
    """Set the actor for the rest of the enclosing `acting` block (used once a token is authenticated)."""
    _current.set(replace(_current.get(_DEFAULT), actor=actor))


def user_actor(user) -> Actor:
    name = user.get_username()
    return Actor(kind="integration" if getattr(user, "is_integration", False) else "user", id=str(user.pk), name=name)
