"""The webhook job: record what happened since the last pass, then deliver what is due to each endpoint,
at least once, under the same `webhook-id` on every try.

1. One transaction reads each origin from its cursor, stores the new events (body fixed) with a pending
   delivery for every enabled endpoint subscribed to its type, and moves the cursors (events.py).
2. Per endpoint, lease a batch of due deliveries (monitor.store.leases: two processes never send one
   delivery at once; a killed holder's lease is broken by the next pass), post each, signed for this
   attempt, and record every attempt in the log. A 2xx answer delivers; anything else (an error status,
   a redirect, a timeout, no connection) is retried by the one backoff rule, and the rest of the batch
   waits with it: an endpoint that just failed is not sent the next fifty at once.
3. An endpoint failing without a success for a day is disabled and said so (log line, `grumble
   status`, the Webhooks page); an admin enables it again from that page.

A crash after the receiver took a request and before step 2 recorded it sends it again on the next pass,
with the same id and body: a receiver de-duplicating on `webhook-id`, as the spec asks, sees it once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine

from monitor.backoff import Backoff
from monitor.config import Config
from monitor.config.webhooks import WebhookEndpoint
from monitor.mention import utcnow
from monitor.store import leases
from monitor.store import webhook_deliveries as deliveries
from monitor.surface.delivery import RETRY
from monitor.webhooks.events import record_new_events
from monitor.webhooks.signing import signed_headers

log = logging.getLogger(__name__)

# Deliveries leased at once per endpoint; the lease outlasts every one of them timing out.
BATCH = 50
# Requests in flight at once to one endpoint that answers.
CONCURRENCY = 8
LEASE_MARGIN = timedelta(minutes=1)
DISABLE_AFTER = timedelta(days=1)
# Passes over the origins in one run when each is full (a backlog after downtime): then the next run.
MAX_RECORD_PASSES = 50
USER_AGENT = "Grumble-Webhooks/1"
# Delivered events (with their attempts) are kept this long for the delivery log, then forgotten;
# the check runs at most once an hour.
KEEP_DELIVERED = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)
ERROR_BODY_CHARS = 200


@dataclass
class DeliveryReport:
    recorded: int = 0  # deliveries made for new events
    delivered: int = 0
    failed: int = 0  # attempts that failed
    disabled: list[str] = field(default_factory=list)
    pruned: int = 0  # delivered events forgotten after KEEP_DELIVERED


class WebhookDelivery:
    def __init__(
        self,
        config: Config,
        engine: Engine,
        *,
        http: httpx.Client,
        clock: Callable[[], datetime] = utcnow,
        retry: Backoff = RETRY,
        batch: int = BATCH,
    ) -> None:
        self.settings = config.webhooks
        self.public_url = config.dashboard.public_url
        self.engine = engine
        self.http = http
        self.clock = clock
        self.retry = retry
        self.batch = batch
        self._pruned_at: datetime | None = None

    def enabled_endpoints(self) -> list[WebhookEndpoint]:
        states = deliveries.endpoint_states(self.engine)
        return [
            endpoint
            for endpoint in self.settings.endpoints
            if endpoint.name not in states or states[endpoint.name].disabled_at is None
        ]

    def run(self) -> DeliveryReport:
        report = DeliveryReport()
        endpoints = self.enabled_endpoints()
        report.recorded = self.record_events(endpoints)
        for endpoint in endpoints:
            self.deliver(endpoint, report)
        now = self.clock()
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            report.pruned = deliveries.prune(self.engine, now - KEEP_DELIVERED)
            self._pruned_at = now
        return report

    def record_events(self, endpoints: list[WebhookEndpoint]) -> int:
        subscribers: dict[str, list[str]] = {}
        for endpoint in endpoints:
            for event_type in endpoint.events:
                subscribers.setdefault(event_type, []).append(endpoint.name)
        made = 0
        for _ in range(MAX_RECORD_PASSES):
            with self.engine.begin() as connection:
                count, more = record_new_events(connection, subscribers, self.clock(), self.public_url)
            made += count
            if not more:
                break
        return made

    def deliver(self, endpoint: WebhookEndpoint, report: DeliveryReport) -> None:
        """Send the endpoint's due deliveries, batch after batch, until none is due or it fails."""
        lease = timedelta(seconds=self.batch * self.settings.timeout_seconds) + LEASE_MARGIN
        with leases.holding(self.engine), ThreadPoolExecutor(CONCURRENCY) as pool:
            while True:
                now = self.clock()
                batch = deliveries.lease_due(
                    self.engine, endpoint.name, now, now + lease, leases.this_process(), self.batch
                )
                if not batch or not self._send_batch(endpoint, batch, report, pool):
                    return

    def _send_batch(
        self,
        endpoint: WebhookEndpoint,
        batch: list[deliveries.Leased],
        report: DeliveryReport,
        pool: ThreadPoolExecutor,
    ) -> bool:
        """Post the batch: the first alone, then `CONCURRENCY` at a time, stopping at a wave with a
        failure (an endpoint that is down gets one request per retry, not fifty). Order is not kept,
        as the spec allows: a receiver orders events by their timestamp if it needs to."""
        outcomes: list[deliveries.Outcome] = []
        failed: list[deliveries.Leased] = []
        waves = [batch[:1]] + [batch[i : i + CONCURRENCY] for i in range(1, len(batch), CONCURRENCY)]
        for wave in waves:
            results = list(pool.map(lambda leased: self._post(endpoint, leased), wave))
            outcomes += results
            failed = [leased for leased, outcome in zip(wave, results, strict=True) if not outcome.delivered]
            if failed:
                break
        now = self.clock()
        retry_at = now + self.retry.delay(max((leased.attempts for leased in failed), default=0) + 1)
        deliveries.record_outcomes(self.engine, endpoint.name, outcomes, retry_at)
        report.delivered += sum(outcome.delivered for outcome in outcomes)
        if any(outcome.delivered for outcome in outcomes):
            deliveries.mark_success(self.engine, endpoint.name, now)
        if not failed:
            return True
        report.failed += len(failed)
        deliveries.release(self.engine, [leased.id for leased in batch[len(outcomes) :]], retry_at)
        error = next(outcome.error for outcome in outcomes if outcome.error) or "failed"
        state = deliveries.mark_failure(self.engine, endpoint.name, now, error)
        log.warning(
            "webhook %s to %s (%s) not delivered, retrying at %s: %s",
            failed[0].msg_id,
            endpoint.name,
            endpoint.host,
            retry_at,
            error,
        )
        since = state.failing_since or now
        if now - since >= DISABLE_AFTER:
            reason = f"failing since {since:%Y-%m-%d %H:%M} UTC without a success; last error: {error}"
            if deliveries.disable(self.engine, endpoint.name, now, reason):
                report.disabled.append(endpoint.name)
                log.error(
                    "webhook endpoint %s (%s) disabled: %s. Fix it, then enable it again on the "
                    "Webhooks page; its pending deliveries are kept.",
                    endpoint.name,
                    endpoint.host,
                    reason,
                )
        return False

    def _post(self, endpoint: WebhookEndpoint, leased: deliveries.Leased) -> deliveries.Outcome:
        at = self.clock()
        body = leased.body.encode("utf-8")
        headers = {
            **signed_headers(endpoint.keys, leased.msg_id, at, body),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            response = self.http.post(
                endpoint.url, content=body, headers=headers, timeout=self.settings.timeout_seconds
            )
            status = response.status_code
            if not response.is_success:
                error = f"HTTP {status}: {response.text[:ERROR_BODY_CHARS].strip() or response.reason_phrase}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        duration_ms = round((time.perf_counter() - started) * 1000)
        return deliveries.Outcome(leased.id, at, status, error, duration_ms)


def http_client() -> httpx.Client:
    """Redirects are not followed: a 3xx is a failure (the spec), and the body goes to the configured
    host or nowhere."""
    return httpx.Client(follow_redirects=False)
