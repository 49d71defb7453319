"""The `qualiflow` command: demo, serve, worker, migrate, seed, training daily, audit verify, import, bench
and any management command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualiflow.settings")
    import django

    django.setup()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def serve(host: str, port: int, workers: int) -> int:
    """Run the WSGI app under gunicorn (static files through WhiteNoise)."""
    _django()
    _manage("collectstatic", "--noinput", "-v", "0")
    from django.conf import settings

    argv = [
        "gunicorn", "qualiflow.wsgi:application", "--bind", f"{host}:{port}", "--workers", str(workers),
        "--threads", "4", "--access-logfile", "-", "--graceful-timeout", "10",
    ]
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        argv += ["--worker-class", "gthread"]
    print(f"Qualiflow is served on http://{host}:{port}/ (Ctrl-C stops it)", flush=True)
    os.execvp(sys.executable, [sys.executable, "-m", *argv])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qualiflow", description="Qualiflow command line")
    sub = parser.add_subparsers(dest="command", required=True)

    p_demo = sub.add_parser("demo", help="migrate, seed the demo plant (once) and serve it")
    p_demo.add_argument("--host", default="127.0.0.1")
    p_demo.add_argument("--port", type=int, default=8000)
    p_demo.add_argument("--workers", type=int, default=2)
    p_demo.add_argument("--reseed", action="store_true", help="rebuild the demo plant from scratch")

    p_serve = sub.add_parser("serve", help="serve with gunicorn")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8000)
    p_serve.add_argument("--workers", type=int, default=2)

    sub.add_parser("migrate", help="create or upgrade the database schema")

    p_seed = sub.add_parser("seed", help="build the demo plant")
    p_seed.add_argument("--seed", type=int, default=13485)
    p_seed.add_argument("--employees", type=int, default=300)
    p_seed.add_argument("--if-empty", action="store_true", help="do nothing when the database already has employees")
    p_seed.add_argument("--reset", action="store_true", help="delete the default SQLite demo database and migrate first")

    p_worker = sub.add_parser("worker", help="run the daily jobs (reconcile, expiry) once a day; no broker needed")
    p_worker.add_argument("--once", action="store_true", help="run the jobs due now and exit")

    p_training = sub.add_parser("training", help="training tools")
    training_sub = p_training.add_subparsers(dest="training_command", required=True)
    p_daily = training_sub.add_parser("daily", help="reconcile assignments and run the expiry job now")
    p_daily.add_argument("--at", help="the moment to run for, ISO 8601 with time zone (default: now)")

    p_audit = sub.add_parser("audit", help="audit trail tools")
    audit_sub = p_audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="verify the hash chain of the audit trail")

    p_import = sub.add_parser("import", help="import legacy data from CSV or XLSX (dry run, commit, rollback)")
    from qualiflow.imports.commandline import add_arguments

    add_arguments(p_import)

    p_bench = sub.add_parser("bench", help="run a benchmark")
    p_bench.add_argument("name")
    p_bench.add_argument("args", nargs=argparse.REMAINDER)

    p_manage = sub.add_parser("manage", help="any Django management command")
    p_manage.add_argument("args", nargs=argparse.REMAINDER)

    args = parser.parse_args(argv)
    if args.command == "bench":
        from qualiflow.bench import run

        return run(args.name, args.args)
    _django()
    from django.core.management import CommandError

    try:
        return _dispatch(args)
    except CommandError as exc:
        print(f"qualiflow {args.command}: {exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "migrate":
        _manage("migrate", "--noinput")
    elif args.command == "seed":
        flags = [flag for flag, on in (("--if-empty", args.if_empty), ("--reset", args.reset)) if on]
        _manage("seed", "--seed", str(args.seed), "--employees", str(args.employees), *flags)
    elif args.command == "audit":
        from django.core.management import call_command

        try:
            call_command("audit", args.audit_command)
        except SystemExit as exc:
            return int(exc.code or 0)
    elif args.command == "import":
        from qualiflow.imports.commandline import run

        return run(args)
    elif args.command == "worker":
        _manage("worker", *(["--once"] if args.once else []))
    elif args.command == "training":
        _manage("training_daily", *(["--at", args.at] if args.at else []))
    elif args.command == "manage":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["qualiflow", *args.args])
    elif args.command == "demo":
        _manage("migrate", "--noinput", "-v", "0")
        _manage("seed", "--if-empty", *(["--reset"] if args.reseed else []))
        # The daily jobs beside the server, in the same process group: Ctrl-C stops both.
        subprocess.Popen([sys.executable, "-m", "qualiflow.cli", "worker"])
        print("The daily jobs (training reconcile, expiry reminders) run in a worker beside the server.", flush=True)
        return serve(args.host, args.port, args.workers)
    elif args.command == "serve":
        return serve(args.host, args.port, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
