"""equipment API."""

from ninja import Router

router = Router(tags=["equipment"])
