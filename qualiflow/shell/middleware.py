"""Pages show times in the reader's plant time: the time zone of the site their employee record belongs to,
else the one zone all active sites share, else UTC. Stored times stay UTC; forms read entered times in the
same zone they are shown in."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

from qualiflow.org.models import Site
from qualiflow.people.models import Employee


def reader_zone(user) -> zoneinfo.ZoneInfo | None:
    zone = (
        Employee.objects.filter(user_id=user.pk).values_list("site__time_zone", flat=True).first()
        if user.is_authenticated else None
    )
    if not zone:
        zones = set(Site.objects.filter(is_active=True).values_list("time_zone", flat=True)[:2])
        zone = zones.pop() if len(zones) == 1 else None
    try:
        return zoneinfo.ZoneInfo(zone) if zone else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class PlantTimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The API speaks ISO 8601 with offsets and needs no local zone.
        if request.path.startswith("/api/"):
            return self.get_response(request)
        zone = reader_zone(request.user)
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
