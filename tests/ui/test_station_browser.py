"""The station in a real browser (Playwright driving Debian's Chromium): a qualified operator tracks in
and out; an operator whose qualification expired is refused and sees why. Screenshots are kept under
test-artifacts/station/ for review.

The application is served by Django's live-server thread sharing the test's database connection (as Django
does for in-memory SQLite), so the test runs inside its transaction on every engine: no flush is needed
afterwards, which the audit table's database guards would rightly refuse."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from pathlib import Path

import pytest
import station_plant
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread
from django.utils import timezone

from qualiflow.accounts.roles import Role
from qualiflow.production.models import GateRefusal, OperationRun
from qualiflow.production.services import orders

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "station"
PASSWORD = "Correct-Horse-42"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is not installed (apt-get install chromium)"),
]


@contextlib.contextmanager
def chromium_page():
    """A page in headless Chromium. Database reads belong outside this block: inside it Playwright's
    event loop runs in this thread, where Django would hand out a second connection."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            yield browser.new_page(viewport={"width": 1024, "height": 900}, locale="en-GB")
        finally:
            browser.close()


@pytest.fixture
def live_app(db, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls next to one.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shared = connections["default"]
    # The server thread must not close the test's connection after each request or when it stops.
    monkeypatch.setattr(shared, "close", lambda: None)
    shared.inc_thread_sharing()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override={"default": shared}, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield f"http://127.0.0.1:{server.port}"
    server.terminate()
    shared.dec_thread_sharing()


@pytest.fixture
def floor(db, plant, make_employee, make_user):
    line = station_plant.build(plant)
    qualified = make_employee(employee_number="OP-100", family_name="李", given_name="娜", latin_name="Li Na")
    station_plant.qualify(line, qualified)
    lapsed = make_employee(employee_number="OP-200", family_name="张", given_name="伟", latin_name="Zhang Wei")
    station_plant.qualify(line, lapsed, valid_until=timezone.now() - dt.timedelta(days=3))
    now = timezone.now()
    second = orders.work_order_create(
        number="WO-0002", product=line.product, routing=line.routing, line=plant.line_a, quantity=5, lot_number="L2026-002",
        planned_start=now, planned_end=now + dt.timedelta(hours=4), reason="browser test")
    orders.work_order_release(work_order=second, reason="browser test")
    make_user(Role.OPERATOR, username="station1", scope_kind="line", scope_id=plant.line_a.pk)
    return line


def _sign_in(page, url: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", "station1")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _scan(page, badge: str, traveller: str) -> None:
    page.fill("#id_badge", badge)
    page.fill("#id_work_order", traveller)
    page.click("#track-in")
    page.wait_for_selector("#verdict")


def test_a_qualified_operator_tracks_in_and_out_and_an_expired_one_is_refused(floor, live_app):
    with chromium_page() as page:
        _sign_in(page, live_app)
        page.goto(f"{live_app}/production/station/?station=ST-1")

        _scan(page, "OP-100", "WO-0001/10")
        tracked_in = page.inner_text("#verdict")
        page.screenshot(path=str(ARTIFACTS / "1-tracked-in.png"), full_page=True)

        page.click("text=Track out")
        page.fill("#id_good_quantity", "10")
        page.fill("#id_scrap_quantity", "0")
        page.fill("#id_inspection_LEAK", "1.2")
        page.screenshot(path=str(ARTIFACTS / "2-track-out.png"), full_page=True)
        page.click("#track-out")
        page.wait_for_load_state()
        tracked_out = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "3-tracked-out.png"), full_page=True)

        _scan(page, "OP-200", "WO-0002/10")
        refused = page.inner_text("#verdict")
        page.screenshot(path=str(ARTIFACTS / "4-refused.png"), full_page=True)

    assert "tracked in at WO-0001 / 10" in tracked_in
    assert "tracked out of WO-0001 / 10" in tracked_out
    run = OperationRun.objects.get()
    assert (run.operator.employee_number, run.good_quantity, run.inspection_results[0]["passed"], run.station) == (
        "OP-100", 10, True, "ST-1")
    assert "may not work at WO-0002 / 10" in refused
    assert "Qualification Q-ASM" in refused and "Expired on" in refused
    assert GateRefusal.objects.filter(operator__employee_number="OP-200").count() == 1
    assert OperationRun.objects.count() == 1
    assert all((ARTIFACTS / name).stat().st_size > 10_000 for name in ("1-tracked-in.png", "4-refused.png"))
