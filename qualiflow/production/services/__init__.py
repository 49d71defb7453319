"""Writes for production, one module per area: catalogue (products, routings), orders (work orders),
station (the gate, track-in / track-out, overrides) and dhr (device history records)."""
