"""The webhook signature: `X-Qualiflow-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact request body
under the webhook's secret.

A receiver verifies it by computing the same HMAC over the raw body bytes it received (before parsing the
JSON) and comparing in constant time, e.g. in Python:

    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, request.headers["X-Qualiflow-Signature"])

Delivery is at least once: a receiver that must act once keeps the CloudEvent `id` it has processed and
ignores a repeat.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Qualiflow-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature or "")
