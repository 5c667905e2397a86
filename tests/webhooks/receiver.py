"""A webhook receiver for tests, on a real loopback HTTP server (tests/support/http_replay.py), that checks
every request the way the spec tells receivers to, independently of Grumble's signing code: the
`standardwebhooks` reference library verifies the signature (any one of the space-separated ones may
match) and the timestamp's five minutes, and events are de-duplicated on `webhook-id`.

Where a test drives Grumble's clock (retries hours apart, a day of failures), the library's tolerance
against the real clock would refuse the timestamps; `verify_by_hand` is then used, which checks the HMAC
with Python's hmac module against the receiver's own `now`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.http_replay import ReplayServer, Reply, Request

TOLERANCE = timedelta(minutes=5)


def new_secret(seed: int) -> str:
    return "whsec_" + base64.b64encode(hashlib.sha256(str(seed).encode()).digest()).decode()


def verify_by_hand(secret: str, headers: dict[str, str], body: bytes, now: datetime) -> None:
    """The spec's receiver rule with hmac alone; raises WebhookVerificationError."""
    headers = {name.lower(): value for name, value in headers.items()}
    msg_id, timestamp, signatures = (
        headers.get("webhook-id"),
        headers.get("webhook-timestamp"),
        headers.get("webhook-signature"),
    )
    if not (msg_id and timestamp and signatures):
        raise WebhookVerificationError("missing headers")
    if not timestamp.isdigit():
        raise WebhookVerificationError("bad timestamp")
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE.total_seconds():
        raise WebhookVerificationError("timestamp out of tolerance")
    key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return
    raise WebhookVerificationError("no matching signature")


@dataclass
class Receiver:
    """Accepts what verifies under `secret`; keeps every request, and each event once by its id."""

    server: ReplayServer
    secret: str
    path: str = "/hooks"
    clock: Callable[[], datetime] | None = None  # None: the library checks against the real clock
    # Answers to give before answering 204, one per request (e.g. [500, 500]).
    failures: list[int] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    events: dict[str, Any] = field(default_factory=dict)  # webhook-id -> payload, de-duplicated
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Called with each request before it is answered (a test may block here).
    on_request: Callable[[Request], None] | None = None

    def __post_init__(self) -> None:
        self.server.route("POST", self.path, self._answer)

    @property
    def url(self) -> str:
        return self.server.url + self.path

    def _answer(self, request: Request) -> Reply:
        if self.on_request is not None:
            self.on_request(request)
        with self.lock:
            self.requests.append(request)
            if self.failures:
                return Reply(status=self.failures.pop(0), body="not now")
            try:
                if self.clock is None:
                    payload = Webhook(self.secret).verify(request.body, dict(request.headers))
                else:
                    verify_by_hand(self.secret, dict(request.headers), request.body, self.clock())
                    payload = json.loads(request.body)
            except WebhookVerificationError as exc:
                self.refused.append(str(exc))
                return Reply(status=401, body=str(exc))
            self.events.setdefault(request.headers["webhook-id"], payload)
        return Reply(status=204)

    def ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.requests]

    def of_type(self, event_type: str) -> list[Any]:
        return [event for event in self.events.values() if event["type"] == event_type]


def signatures(request: Request) -> Sequence[str]:
    return request.headers["webhook-signature"].split(" ")
