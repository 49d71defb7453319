"""Production API: dhr."""

from ninja import Router

router = Router()
