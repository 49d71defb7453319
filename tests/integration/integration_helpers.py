"""A real HTTP receiver on 127.0.0.1 for webhook tests, and helpers to emit events and run the dispatcher."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import transaction

from qualiflow.integration import dispatch, events
from qualiflow.integration.models import Delivery, DeliveryStatus


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client closing its kept-alive connection is not worth a traceback


@dataclass
class Receiver:
    """Answers each POST with `respond(number_of_the_call, cloudevent)` (an HTTP status) and keeps what came."""

    respond: Callable[[int, dict], int] = lambda n, event: 200
    calls: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def accepted(self) -> list[dict]:
        return [call.event for call in self.calls if 200 <= call.status < 300]

    def __enter__(self) -> Receiver:
        receiver, lock = self, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    status = receiver.respond(len(receiver.calls) + 1, json.loads(body))
                    receiver.calls.append(Received(dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def emit_many(items: list[tuple[str, str]]) -> list:
    """Emit (type, subject) pairs in one transaction, numbering them in `data.n`."""
    with transaction.atomic():
        return [events.emit(type_, subject, {"n": n}) for n, (type_, subject) in enumerate(items)]


def drain(rounds: int = 50) -> int:
    """Run the dispatcher until nothing is pending or due; returns the rounds that did work."""
    worked = 0
    for _ in range(rounds):
        if not dispatch.run_once():
            break
        worked += 1
    return worked


def pending_count() -> int:
    return Delivery.objects.filter(status=DeliveryStatus.PENDING).count()
