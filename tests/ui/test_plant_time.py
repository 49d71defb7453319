"""Pages show times in the reader's plant time zone; the API and stored values stay in UTC."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from qualiflow.accounts.roles import Role
from qualiflow.org import services as org_services
from qualiflow.org.models import Site
from qualiflow.people import services as people_services
from qualiflow.shell.middleware import PlantTimeMiddleware


def _zone_seen(user, path: str = "/training/") -> str:
    request = RequestFactory().get(path)
    request.user = user
    middleware = PlantTimeMiddleware(lambda _request: HttpResponse(timezone.get_current_timezone_name()))
    return middleware(request).content.decode()


def test_a_reader_sees_their_own_site_time(plant, make_user, make_employee):
    org_services.org_unit_update(unit=plant.site_b, data={"time_zone": "Europe/Berlin"}, reason="plant abroad")
    user = make_user(Role.OPERATOR)
    employee = make_employee(employee_number="E-TZ1", site=plant.site_b, department=plant.packaging_b, line=plant.line_b2)
    people_services.employee_update(employee=employee, data={"user": user}, reason="link the login")
    assert _zone_seen(user) == "Europe/Berlin"
    assert _zone_seen(user, "/api/v1/me") == "UTC"


def test_without_a_site_the_plant_zone_applies_when_all_sites_share_one(plant, make_user):
    user = make_user(Role.AUDITOR)
    assert set(Site.objects.values_list("time_zone", flat=True)) == {"Asia/Shanghai"}
    assert _zone_seen(user) == "Asia/Shanghai"
    org_services.org_unit_update(unit=plant.site_b, data={"time_zone": "Europe/Berlin"}, reason="plant abroad")
    assert _zone_seen(user) == "UTC"
