"""Settings for the worker subprocess of the kill test: only event delivery runs, with a short lease so a
killed worker's claims run out quickly, and retries at once."""

from qualiflow.settings import *  # noqa: F403

QUALIFLOW_WORKER_LOOPS = ["qualiflow.integration.dispatch.run_once"]
QUALIFLOW_DELIVERY_LEASE_SECONDS = 3
QUALIFLOW_DELIVERY_BACKOFF_SECONDS = 0
QUALIFLOW_NATS_URL = ""
