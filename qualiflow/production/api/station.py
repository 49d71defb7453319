"""Production API: station."""

from ninja import Router

router = Router()
