"""`qualiflow bench import`: what the legacy import costs per row.

In a throwaway database (an SQLite file under var/bench/, or a PostgreSQL database created and dropped on
the server of $DATABASE_URL), seeds E employees and C courses, writes a CSV of N training records for
them (streamed to a file under var/bench/), and measures
  (a) the import engine: dry run (`batch_validate`) then commit (`batch_commit`: validated again, written
      in one transaction with an audit entry per row and the rollback ledger), in rows/s;
  (b) the same-run baseline: a bare bulk insert of the same rows into the same table, reading the same
      file (COPY on PostgreSQL, one executemany transaction on SQLite), without validation or audit.
The ratio (a)/(b) is the price of validation, duplicate detection, audit and the ledger; the target is
≤ 4x. Memory stays bounded: the file is streamed and written in chunks; the peak RSS is reported.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import resource
import shutil
import sys
import time
import uuid
from pathlib import Path

from .harness import ThrowawayDatabase, _default_sqlite, run_isolated

TARGET_RATIO = 4.0
COLUMNS = ("employee_number", "course", "completed_at", "passed", "score")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qualiflow bench import", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="training records in the file (1,000,000)")
    parser.add_argument("--employees", type=int, default=10_000, help="employees to seed (10,000)")
    parser.add_argument("--courses", type=int, default=20, help="courses to seed (20)")
    parser.add_argument(
        "--database-url", default="",
        help="an sqlite:/// file (deleted and recreated) or a postgres:// server on which --bench-database is "
        "created and dropped (default: the server of $DATABASE_URL when it is PostgreSQL, else "
        "var/bench/import.sqlite3)",
    )
    parser.add_argument("--bench-database", default="qualiflow_bench_import", help="PostgreSQL database to create and drop")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database and the CSV afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if min(args.rows, args.employees, args.courses) < 1:
        parser.error("--rows, --employees and --courses must be at least 1")
    return args


def _write_csv(path: Path, rows: int, employees: int, courses: int) -> None:
    """Row i: employee i mod E, course and day from i div E, so (employee, course, time) never repeats."""
    base = dt.datetime(2018, 1, 1, 8, 30)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(rows):
            k = i // employees
            moment = base + dt.timedelta(days=k // courses, minutes=i % 7)
            writer.writerow((f"B{i % employees:07d}", f"C{k % courses:03d}", moment.strftime("%Y-%m-%d %H:%M"),
                             "1" if i % 10 else "0", f"{60 + i % 41}"))


def _seed(args: argparse.Namespace) -> None:
    from django.db import transaction

    from qualiflow.core import context
    from qualiflow.org import services as org_services
    from qualiflow.org.models import Company, Department, Site
    from qualiflow.people.models import Employee
    from qualiflow.training import services as training

    with context.acting(actor=context.Actor(kind="system", id="", name="bench"), reason="benchmark"):
        create = org_services.org_unit_create
        company = create(model=Company, data={"code": "B", "name": "基准公司"})
        site = create(model=Site, data={"code": "B-S", "name": "基准工厂", "company": company})
        department = create(model=Department, data={"code": "B-D", "name": "组装车间", "site": site})
        with transaction.atomic():
            Employee.objects.bulk_create(
                [Employee(employee_number=f"B{i:07d}", family_name="王", given_name=f"员工{i}",
                          hire_date=dt.date(2017, 1, 1), site=site, department=department) for i in range(args.employees)],
                batch_size=2000,
            )
        for c in range(args.courses):
            training.course_create(data={"code": f"C{c:03d}", "name": f"课程{c}", "duration_hours": 2,
                                         "max_score": 100, "pass_mark": 60}, reason="benchmark")


_INSERT_COLUMNS = (
    "id", "created_at", "updated_at", "external_refs", "employee_id", "course_id", "completed_at", "passed", "score",
    "document_revision_label", "notes",
)


def _bare_rows(path: Path, engine: str, employees: dict, courses: dict):
    """The file's rows as table rows, with nothing checked: the least any import must do."""
    import zoneinfo

    from django.utils import timezone

    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    now = timezone.now()
    sqlite = engine == "sqlite"
    stamp = now.replace(tzinfo=None).isoformat(sep=" ") if sqlite else now
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for number, course, completed, passed, score in reader:
            moment = dt.datetime.fromisoformat(completed).replace(tzinfo=zone)
            employee, course_id = employees[number], courses[course]
            if sqlite:
                yield (uuid.uuid4().hex, stamp, stamp, "{}", employee.hex, course_id.hex,
                       moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" "), passed == "1", score, "", "")
            else:
                yield (uuid.uuid4(), stamp, stamp, "{}", employee, course_id, moment, passed == "1", score, "", "")


def _bare_insert(path: Path, engine: str) -> float:
    from django.db import connection, transaction

    from qualiflow.people.models import Employee
    from qualiflow.training.models import Course

    start = time.perf_counter()
    # Read before the COPY starts: the connection answers nothing else while it is copying.
    employees = dict(Employee.objects.values_list("employee_number", "pk"))
    courses = dict(Course.objects.values_list("code", "pk"))
    with transaction.atomic():
        raw = connection.connection
        if engine == "postgresql":
            with raw.cursor() as cursor:
                # Marked as the application's own write, as the audit bench does: the baseline pays for the
                # (quiet) trace trigger like the import does, not for trace rows.
                cursor.execute("SELECT set_config('qualiflow.audited', 'on', true)")
                with cursor.copy(f"COPY training_trainingrecord ({', '.join(_INSERT_COLUMNS)}) FROM STDIN") as copy:
                    for row in _bare_rows(path, engine, employees, courses):
                        copy.write_row(row)
        else:
            placeholders = ", ".join(["?"] * len(_INSERT_COLUMNS))
            cursor = raw.cursor()
            cursor.executemany(
                f"INSERT INTO training_trainingrecord ({', '.join(_INSERT_COLUMNS)}) VALUES ({placeholders})",
                _bare_rows(path, engine, employees, courses),
            )
            cursor.close()
    elapsed = time.perf_counter() - start
    with transaction.atomic(), connection.cursor() as cursor:
        if engine == "postgresql":
            cursor.execute("SELECT set_config('qualiflow.audited', 'on', true)")
        cursor.execute("DELETE FROM training_trainingrecord")
    return elapsed


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(args: argparse.Namespace, engine: str, csv_path: Path) -> dict:
    from django.conf import settings
    from django.core.management import call_command

    from qualiflow.core import context
    from qualiflow.imports import services
    from qualiflow.imports.models import BatchStatus
    from qualiflow.training.models import TrainingRecord

    # The stored copy of the file goes beside the CSV, never into the installation's media.
    settings.MEDIA_ROOT = str(csv_path.parent / "import-media")
    call_command("migrate", verbosity=0, interactive=False)
    _seed(args)
    start = time.perf_counter()
    _write_csv(csv_path, args.rows, args.employees, args.courses)
    generate_s = time.perf_counter() - start
    rss_before = _peak_rss_mb()

    bare_s = _bare_insert(csv_path, engine)

    with context.acting(actor=context.Actor(kind="system", id="", name="bench")):
        source = services.source_system_create(code="bench-lms", name="Legacy LMS")
        with csv_path.open("rb") as handle:
            batch = services.batch_upload(kind="training_records", source=source, file=handle, file_name=csv_path.name)
        start = time.perf_counter()
        batch = services.batch_validate(batch=batch)
        validate_s = time.perf_counter() - start
        if batch.error_count:
            raise SystemExit(f"the generated file has {batch.error_count} errors: {batch.row_errors.first()}")
        start = time.perf_counter()
        batch = services.batch_commit(batch=batch)
        commit_s = time.perf_counter() - start
    if batch.status != BatchStatus.COMMITTED:
        raise SystemExit(f"the commit failed: {batch.failure}")
    written = TrainingRecord.objects.count()
    if written != args.rows:
        raise SystemExit(f"{written} records written, {args.rows} expected")
    import_s = validate_s + commit_s
    return {
        "engine": engine,
        "rows": args.rows,
        "employees": args.employees,
        "courses": args.courses,
        "generate_s": generate_s,
        "validate_s": validate_s,
        "commit_s": commit_s,
        "import_s": import_s,
        "import_rows_per_s": args.rows / import_s,
        "bare_s": bare_s,
        "bare_rows_per_s": args.rows / bare_s,
        "ratio": import_s / bare_s,
        "target": TARGET_RATIO,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_before_import_mb": rss_before,
    }


def _table(r: dict) -> str:
    verdict = "met" if r["ratio"] <= TARGET_RATIO else "MISSED"
    baseline = "COPY" if r["engine"] == "postgresql" else "executemany, 1 txn"
    return "\n".join([
        f"Qualiflow import benchmark on {r['engine']} — {r['rows']:,} training records "
        f"({r['employees']:,} employees, {r['courses']} courses)",
        "",
        f"{'measurement':<46}{'time':>10}{'rows/s':>12}",
        f"{'dry run (validate)':<46}{r['validate_s']:>9.1f}s{r['rows'] / r['validate_s']:>12,.0f}",
        f"{'commit (validate again + write + audit + ledger)':<46}{r['commit_s']:>9.1f}s{r['rows'] / r['commit_s']:>12,.0f}",
        f"{'import = dry run + commit':<46}{r['import_s']:>9.1f}s{r['import_rows_per_s']:>12,.0f}",
        f"{'bare bulk insert (' + baseline + ')':<46}{r['bare_s']:>9.1f}s{r['bare_rows_per_s']:>12,.0f}",
        "",
        f"ratio import / bare insert: {r['ratio']:.2f}x (target ≤ {TARGET_RATIO:g}x) {verdict}",
        f"peak RSS {r['peak_rss_mb']:.0f} MB (after seeding and writing the file: {r['rss_before_import_mb']:.0f} MB); "
        f"generating the CSV took {r['generate_s']:.1f}s",
    ])


def main(argv: list[str] | None = None) -> int:
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    database = ThrowawayDatabase(args.database_url, args.bench_database, sqlite_name="import.sqlite3")
    csv_path = _default_sqlite("import-training-records.csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return run_isolated(name="import", database=database, keep=args.keep, as_json=args.json,
                            run=lambda engine: _run(args, engine, csv_path), table=_table)
    finally:
        if not args.keep:
            csv_path.unlink(missing_ok=True)
            shutil.rmtree(csv_path.parent / "import-media", ignore_errors=True)
