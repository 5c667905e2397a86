"""The Standard Webhooks signature: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).

A request carries one signature per key, space-separated, the current key's first: during a rotation a
receiver holding either the new or the old secret finds one it can check. The few lines are written
here rather than taken from the `standardwebhooks` package, so that the tests' receiver, which verifies
with that package, checks this code independently."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(keys: Sequence[bytes], msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three headers for one attempt sent at `at` (the timestamp is the attempt's, not the event's:
    a receiver refuses one more than five minutes off its clock, and a retry may come hours later)."""
    if not keys:
        raise ValueError("no signing key: an endpoint needs its secret")
    timestamp = int(at.timestamp())
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signature(key, msg_id, timestamp, body) for key in keys),
    }
