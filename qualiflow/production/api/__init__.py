"""Production API under /api/v1/production, one router per area (see `views`)."""

from ninja import Router

from . import catalogue, dhr, orders, station

router = Router(tags=["production"])
for area in (catalogue, orders, station, dhr):
    router.add_router("", area.router)
