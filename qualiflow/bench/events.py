"""`qualiflow bench events`: how fast the dispatcher delivers webhook events.

In a throwaway database (an SQLite file under var/bench/, or a dedicated PostgreSQL database that is
created and dropped), emits N events across many subjects into the outbox, starts a fast HTTP receiver
(a separate process on 127.0.0.1, keep-alive, answers 204), and measures
  (a) the dispatcher: fan-out, claims, signed CloudEvents POSTs in order per subject, attempts and results
      stored, until every delivery is delivered — in deliveries/s;
  (b) the baseline of the same run: bare POSTs of the same bodies to the same receiver, from the same
      keep-alive client with the same number of threads, no database — in POSTs/s (the faster of one
      run before and one after (a), since the machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from .harness import ThrowawayDatabase, run_isolated

TARGET_PER_S = 1_000
EVENT_TYPE = "bench.item.changed"

_RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

server = Server(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
"""


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qualiflow bench events", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events to emit and deliver (20,000)")
    parser.add_argument("--subjects", type=int, default=2_000, help="subjects the events are spread over (2,000)")
    parser.add_argument(
        "--database-url",
        default="",
        help="where to run: an sqlite:/// file (deleted and recreated) or a postgres:// server, on which "
        "the database --bench-database is created and dropped (default: the server of $DATABASE_URL when "
        "it is PostgreSQL, else var/bench/events.sqlite3)",
    )
    parser.add_argument("--bench-database", default="qualiflow_bench_events", help="PostgreSQL database to create and drop")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def _bare_posts(url: str, bodies: list[bytes], threads: int) -> float:
    """Seconds to POST every body once, spread over `threads` threads, with the dispatcher's client."""
    from qualiflow.integration import http

    headers = {"Content-Type": "application/cloudevents+json; charset=utf-8"}
    slices = [bodies[i::threads] for i in range(threads)]

    def post_all(part: list[bytes]) -> None:
        for body in part:
            status, _text = http.post(url, body, headers, timeout=10)
            if not 200 <= status < 300:
                raise SystemExit(f"the receiver answered {status}")

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(post_all, slices))
    return time.perf_counter() - start


def _run(args: argparse.Namespace, engine: str) -> dict:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from qualiflow.core import context
    from qualiflow.integration import dispatch, events, services
    from qualiflow.integration.models import Delivery, DeliveryStatus, OutboxEvent

    call_command("migrate", verbosity=0, interactive=False)
    settings.QUALIFLOW_NATS_URL = ""
    threads = int(getattr(settings, "QUALIFLOW_DELIVERY_THREADS", 8))
    receiver = subprocess.Popen([sys.executable, "-c", _RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{int(receiver.stdout.readline())}/hook"
        n = args.events
        with context.acting(actor=context.Actor(kind="system", id="", name="bench"), reason="benchmark"):
            services.webhook_create(data={"name": "bench", "url": url, "event_types": ["bench.*"]})
            start = time.perf_counter()
            for offset in range(0, n, 1000):
                with transaction.atomic():
                    for i in range(offset, min(offset + 1000, n)):
                        events.emit(EVENT_TYPE, f"bench/item/{i % args.subjects}", {"n": i, "lot": f"L{i:08d}"})
            emit_s = time.perf_counter() - start
        bodies = [dispatch.cloudevent_body(e) for e in OutboxEvent.objects.filter(type=EVENT_TYPE).order_by("position")]

        bare = [_bare_posts(url, bodies, threads)]
        start = time.perf_counter()
        rounds = 0
        while dispatch.run_once():
            rounds += 1
        dispatch_s = time.perf_counter() - start
        bare.append(_bare_posts(url, bodies, threads))
    finally:
        receiver.terminate()
        receiver.wait(10)

    delivered = Delivery.objects.filter(status=DeliveryStatus.DELIVERED, event__type=EVENT_TYPE).count()
    if delivered != n:
        raise SystemExit(f"only {delivered} of {n} events were delivered")
    bare_s = min(bare)
    return {
        "engine": engine,
        "events": n,
        "subjects": args.subjects,
        "threads": threads,
        "emit_s": emit_s,
        "dispatch": {"seconds": dispatch_s, "rounds": rounds, "deliveries_per_s": n / dispatch_s},
        "bare": {"seconds": bare_s, "posts_per_s": n / bare_s},
        "ratio": (n / dispatch_s) / (n / bare_s),
        "target_per_s": TARGET_PER_S,
        "met": n / dispatch_s >= TARGET_PER_S,
    }


def _table(r: dict) -> str:
    d, b = r["dispatch"], r["bare"]
    return "\n".join([
        f"Qualiflow events benchmark on {r['engine']} — {r['events']:,} events over {r['subjects']:,} subjects, "
        f"{r['threads']} sending threads",
        "",
        f"{'measurement':<46}{'time':>10}{'per second':>13}",
        f"{'dispatcher (fan-out, signed POSTs, results)':<46}{d['seconds']:>9.2f}s{d['deliveries_per_s']:>13,.0f}",
        f"{'bare POSTs of the same bodies (same client)':<46}{b['seconds']:>9.2f}s{b['posts_per_s']:>13,.0f}",
        "",
        f"dispatcher / bare POSTs: {r['ratio']:.2f}x; target ≥ {r['target_per_s']:,} deliveries/s: "
        f"{'met' if r['met'] else 'MISSED'}",
        f"(emitting the events took {r['emit_s']:.1f}s; the dispatcher took {d['rounds']} rounds)",
    ])


def main(argv: list[str] | None = None) -> int:
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    database = ThrowawayDatabase(args.database_url, args.bench_database, sqlite_name="events.sqlite3")
    return run_isolated(name="events", database=database, keep=args.keep, as_json=args.json,
                        run=lambda engine: _run(args, engine), table=_table)
