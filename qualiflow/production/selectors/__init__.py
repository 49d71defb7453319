"""Reads for production, one module per area (see `services`)."""
