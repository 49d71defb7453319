"""What the automation tests share: a real HTTP receiver on 127.0.0.1 that records what is posted."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Answers every POST with `status` and `answer` (JSON) and keeps (path, headers, decoded body)."""

    def __init__(self, status: int = 200, answer: dict | None = None):
        self.status = status
        self.answer = answer if answer is not None else {"errcode": 0, "errmsg": "ok"}
        self.requests: list[tuple[str, dict, object]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                receiver.requests.append((self.path, dict(self.headers), json.loads(self.rfile.read(length))))
                body = json.dumps(receiver.answer).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def bodies(self) -> list:
        return [body for _path, _headers, body in self.requests]
