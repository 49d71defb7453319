"""`qualiflow bench audit`: what the audit trail costs.

In a throwaway database (an SQLite file under var/bench/, or a dedicated PostgreSQL database that is
created and dropped), seeds a minimal plant with N employees and measures
  (a) N single employee updates, one transaction each, audited vs the same writes without audit;
  (b) the same N updates in bulk (bulk_update, and one queryset update), audited vs unaudited;
  (c) chain verification over M audit entries in entries/s, against a bare SELECT of the same rows.
Audited and unaudited runs alternate for a few rounds and the fastest of each is kept, because the
machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable

from .harness import ThrowawayDatabase, run_isolated

TARGET_SINGLE = 1.3
TARGET_BULK = 2.0
TARGET_VERIFY_PER_S = 200_000


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qualiflow bench audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=10_000, help="employees to seed and update (10,000)")
    parser.add_argument("--entries", type=int, default=1_000_000, help="audit entries to verify (1,000,000)")
    parser.add_argument(
        "--database-url",
        default="",
        help="where to run: an sqlite:/// file (deleted and recreated) or a postgres:// server, on which "
        "the database --bench-database is created and dropped (default: the server of $DATABASE_URL when "
        "it is PostgreSQL, else var/bench/audit.sqlite3)",
    )
    parser.add_argument("--bench-database", default="qualiflow_bench", help="PostgreSQL database to create and drop")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per write measurement (3)")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def _best(rounds: int, audited: Callable[[int], float], plain: Callable[[int], float]) -> tuple[float, float]:
    audited_times, plain_times = [], []
    for round_no in range(rounds):
        plain_times.append(plain(round_no))
        audited_times.append(audited(round_no))
    return min(audited_times), min(plain_times)


def _run(args: argparse.Namespace, engine: str) -> dict:
    from django.core.management import call_command
    from django.db import connection, models, transaction

    from qualiflow.audit import recorder, selectors
    from qualiflow.audit.tracking import AuditedModel
    from qualiflow.core import context
    from qualiflow.org import services as org_services
    from qualiflow.org.models import Company, Department, ProductionLine, Site
    from qualiflow.people.models import Employee

    call_command("migrate", verbosity=0, interactive=False)
    n = args.employees
    with context.acting(actor=context.Actor(kind="system", id="", name="bench"), reason="benchmark"):
        create = org_services.org_unit_create
        company = create(model=Company, data={"code": "B", "name": "基准公司"})
        site = create(model=Site, data={"code": "B-S", "name": "基准工厂", "company": company})
        department = create(model=Department, data={"code": "B-D", "name": "组装车间", "site": site})
        line = create(model=ProductionLine, data={"code": "B-L", "name": "组装线", "site": site, "department": department})
        with transaction.atomic():
            Employee.objects.bulk_create(
                [
                    Employee(
                        employee_number=f"B{i:07d}", family_name="王", given_name=f"员工{i}", hire_date=dt.date(2020, 1, 1),
                        site=site, department=department, line=line, phone="",
                    )
                    for i in range(n)
                ],
                batch_size=2000,
            )
        employees = list(Employee.objects.order_by("employee_number"))

        def unaudited_session(on: bool) -> None:
            # Writes made outside the audit path would be copied by the PostgreSQL trace triggers at
            # commit; the baseline marks its session as the application's own so it pays for the
            # (quiet) trigger like the audited path does, not for trace rows.
            if engine == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('qualiflow.audited', %s, false)", ["on" if on else ""])

        def single(audited: bool) -> Callable[[int], float]:
            def measure(round_no: int) -> float:
                tag = f"{'a' if audited else 'p'}{round_no}"
                unaudited_session(not audited)
                start = time.perf_counter()
                for i, employee in enumerate(employees):
                    employee.phone = f"{tag}-{i}"
                    with transaction.atomic():
                        if audited:
                            employee.save()
                        else:
                            super(AuditedModel, employee).save()
                elapsed = time.perf_counter() - start
                unaudited_session(False)
                return elapsed

            return measure

        def bulk_update(audited: bool) -> Callable[[int], float]:
            def measure(round_no: int) -> float:
                tag = f"{'A' if audited else 'P'}{round_no}"
                for i, employee in enumerate(employees):
                    employee.phone = f"{tag}-{i}"
                unaudited_session(not audited)
                manager = Employee.objects if audited else models.QuerySet(model=Employee)
                start = time.perf_counter()
                with transaction.atomic():
                    manager.bulk_update(employees, ["phone"])
                elapsed = time.perf_counter() - start
                unaudited_session(False)
                return elapsed

            return measure

        def queryset_update(audited: bool) -> Callable[[int], float]:
            def measure(round_no: int) -> float:
                queryset = Employee.objects.all() if audited else models.QuerySet(model=Employee)
                unaudited_session(not audited)
                start = time.perf_counter()
                with transaction.atomic():
                    queryset.update(latin_name=f"{'A' if audited else 'P'}{round_no}")
                elapsed = time.perf_counter() - start
                unaudited_session(False)
                return elapsed

            return measure

        rounds = max(1, args.rounds)
        single_a, single_p = _best(rounds, single(True), single(False))
        bulk_a, bulk_p = _best(rounds, bulk_update(True), bulk_update(False))
        update_a, update_p = _best(rounds, queryset_update(True), queryset_update(False))

        existing = selectors.chain_verify().checked
        to_add = max(0, args.entries - existing)
        start = time.perf_counter()
        batch = 20_000
        for offset in range(0, to_add, batch):
            with transaction.atomic():
                recorder.record_many(
                    recorder.Change(
                        "update", "people.employee", str(employees[k % n].pk), str(employees[k % n]),
                        {"phone": [f"old-{k}", f"new-{k}"], "status": ["active", "on_leave"]},
                    )
                    for k in range(offset, min(offset + batch, to_add))
                )
        generate_s = time.perf_counter() - start

    sql = selectors.chain_query(engine)

    def bare_select() -> tuple[float, int]:
        start, count = time.perf_counter(), 0
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, [-(2**63)])
            while rows := cursor.fetchmany(50_000):
                count += len(rows)
        return time.perf_counter() - start, count

    workers = os.cpu_count() or 1
    verify_times, select_times = [], []
    for _ in range(2):
        select_times.append(bare_select()[0])
        start = time.perf_counter()
        report = selectors.chain_verify(workers=workers)
        verify_times.append(time.perf_counter() - start)
        if not report.intact:
            raise SystemExit(f"benchmark chain is broken: {report.first_break}")
    verify_s, select_s = min(verify_times), min(select_times)
    return {
        "engine": engine,
        "employees": n,
        "rounds": rounds,
        "single": {"audited_s": single_a, "unaudited_s": single_p, "ratio": single_a / single_p, "target": TARGET_SINGLE},
        "bulk_update": {"audited_s": bulk_a, "unaudited_s": bulk_p, "ratio": bulk_a / bulk_p, "target": TARGET_BULK},
        "queryset_update": {"audited_s": update_a, "unaudited_s": update_p, "ratio": update_a / update_p},
        "verify": {
            "entries": report.checked,
            "workers": workers,
            "seconds": verify_s,
            "entries_per_s": report.checked / verify_s,
            "bare_select_s": select_s,
            "ratio": verify_s / select_s,
            "target_entries_per_s": TARGET_VERIFY_PER_S,
            "generate_s": generate_s,
        },
    }


def _table(r: dict) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    n = f"{r['employees']:,}"
    lines = [
        f"Qualiflow audit benchmark on {r['engine']} — best of {r['rounds']} alternating rounds",
        "",
        f"{'measurement':<38}{'audited':>11}{'unaudited':>11}{'ratio':>9}{'target':>10}  result",
    ]
    rows = [
        (f"single updates ({n}, 1 txn each)", r["single"], f"≤ {TARGET_SINGLE}x", r["single"]["ratio"] <= TARGET_SINGLE),
        (f"bulk_update ({n} rows, 1 txn)", r["bulk_update"], f"≤ {TARGET_BULK}x", r["bulk_update"]["ratio"] <= TARGET_BULK),
        (f"queryset update ({n} rows, 1 txn)", r["queryset_update"], "—", None),
    ]
    for label, m, target, ok in rows:
        lines.append(
            f"{label:<38}{m['audited_s']:>10.3f}s{m['unaudited_s']:>10.3f}s{m['ratio']:>8.2f}x{target:>10}  "
            f"{'' if ok is None else verdict(ok)}"
        )
    v = r["verify"]
    lines += [
        "",
        f"{'chain verify':<38}{'time':>11}{'entries/s':>11}{'vs SELECT':>9}{'target':>10}  result",
        f"{'chain_verify (' + format(v['entries'], ',') + ' entries, ' + str(v['workers']) + ' proc.)':<38}"
        f"{v['seconds']:>10.3f}s"
        f"{v['entries_per_s']:>11,.0f}{v['ratio']:>8.2f}x{'≥ 200,000/s':>10}  {verdict(v['entries_per_s'] >= TARGET_VERIFY_PER_S)}",
        f"{'bare SELECT of the same rows (1 proc.)':<38}{v['bare_select_s']:>10.3f}s{v['entries'] / v['bare_select_s']:>11,.0f}",
        f"(generating the entries with record_many took {v['generate_s']:.1f}s)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    database = ThrowawayDatabase(args.database_url, args.bench_database, sqlite_name="audit.sqlite3")
    return run_isolated(name="audit", database=database, keep=args.keep, as_json=args.json,
                        run=lambda engine: _run(args, engine), table=_table)
