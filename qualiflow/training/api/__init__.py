"""Training API under /api/v1/training, one router per area (see `views`)."""

from ninja import Router

from . import catalogue, expiry, loop, reports

router = Router(tags=["training"])
for area in (catalogue, loop, reports, expiry):
    router.add_router("", area.router)
