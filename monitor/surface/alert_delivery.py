"""Alerts, delivered exactly once as people see them: detect, store each event once, claim a batch,
send it by email and webhook, record each channel.

1. Detection (alerts.py) names every event by a key for good; the store keeps each key once, so an
   event seen again on the next check is not news.
2. One transaction: store the new events, forget pending "source failing" events that recovered
   before they were due, and claim every due, unclaimed event into one batch under one Message-ID
   (a burst becomes one message). A channel not configured now is stamped as done: configuring it
   later must not flood it with old alerts.
3. Deliver every batch a configured channel has not delivered, each under a lease: the email under
   the batch's Message-ID, then the webhook post; each channel is recorded when done, so a retry
   after a failed webhook does not mail again. The lease names the process holding it, and even a
   forced check (`grumble alerts --check`) leaves a batch alone while its holder still runs
   (monitor.store.leases): two checks at once send one copy.

A failed channel leaves the batch claimed with a later next attempt (backoff), retried as it was.
The window SMTP cannot close is the digests' one (digest_delivery.py): a crash after the server took
the mail and before step 3 records it sends it again, under the same Message-ID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine

from monitor.backoff import Backoff
from monitor.config import Config
from monitor.errors import DeliveryError
from monitor.mention import utcnow
from monitor.store import alerts as alert_store
from monitor.store import leases
from monitor.store.collect_state import all_states
from monitor.store.filters import MentionFilter
from monitor.store.trends import first_mention_at
from monitor.surface.alerts import (
    FAILING,
    SPIKE,
    AlertEvent,
    alert_message,
    detect_spike,
    failing_sources,
    loud_mentions,
    slack_payload,
)
from monitor.surface.delivery import LEASE, RETRY
from monitor.surface.mail import Mailer, compose, new_message_id, require
from monitor.surface.spikes import same_time_before
from monitor.surface.webhook import Webhook
from monitor.topics.emerging import emerging_topics

log = logging.getLogger(__name__)

# Loud mentions are looked for among those posted this recently: freshness halves every 12 hours, so
# an older one is under any sensible threshold however loud its author.
LOUD_LOOKBACK = timedelta(days=2)


@dataclass(frozen=True)
class AlertReport:
    detected: list[AlertEvent]
    new: list[AlertEvent]  # not alerted before (in a dry run: would be alerted now)
    sent: list[str] = field(default_factory=list)  # message ids of batches delivered now
    failed: list[tuple[str, DeliveryError]] = field(default_factory=list)


class AlertDelivery:
    """Detects, stores and delivers alerts through `mailer` (None without an [smtp] host: mailing then
    fails with MailNotConfigured, and the batch is kept for a retry) and `http` (for the webhook)."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        *,
        mailer: Mailer | None,
        http: httpx.Client,
        clock: Callable[[], datetime] = utcnow,
        retry: Backoff = RETRY,
    ) -> None:
        self.config = config
        self.engine = engine
        self.mailer = mailer
        self.http = http
        self.clock = clock
        self.retry = retry

    def detect(self, now: datetime) -> list[AlertEvent]:
        settings = self.config.alerts
        window = timedelta(minutes=settings.spike_window_minutes)
        events: list[AlertEvent] = []
        with self.engine.connect() as connection:
            for watch in self.config.watches:
                first = first_mention_at(connection, MentionFilter(watches=[watch.name]))
                if first is None:
                    continue
                current = alert_store.negative_count(connection, watch.name, now - window, now)
                baseline = [
                    alert_store.negative_count(connection, watch.name, end - window, end)
                    for end in same_time_before(now, settings, listening_since=first)
                ]
                spike = detect_spike(
                    watch.name,
                    current,
                    baseline,
                    settings,
                    now,
                    last_spike=alert_store.last_sighting(connection, SPIKE, watch.name),
                )
                if spike is not None:
                    events.append(spike)
            events += loud_mentions(
                alert_store.recent_negatives(connection, now - LOUD_LOOKBACK), settings, now
            )
            if self.config.topics.enabled:
                events += emerging_topics(connection, self.config.watch_names, self.config.topics, now)
        events += failing_sources(all_states(self.engine), settings, now)
        return events

    def check_alerts(
        self, now: datetime | None = None, *, dry_run: bool = False, force: bool = False
    ) -> AlertReport:
        """Detect, store new events, gather the due ones into one batch, deliver every undelivered batch."""
        now = now or self.clock()
        events = self.detect(now)
        settings = self.config.alerts
        # With nobody to tell, nothing is recorded: events stored now would be "old news" once
        # someone configures a channel, and never reach them.
        if dry_run or not settings.enabled:
            with self.engine.connect() as connection:
                known = alert_store.existing_keys(connection, [event.key for event in events])
            due = [event for event in events if event.key not in known and event.due_at <= now]
            return AlertReport(detected=events, new=due)
        from_address = self.config.smtp.from_address
        with self.engine.begin() as connection:
            known = alert_store.existing_keys(connection, [event.key for event in events])
            alert_store.record_events(connection, [_stored(event) for event in events], now)
            alert_store.cancel_unclaimed(
                connection, FAILING, keep={event.key for event in events if event.kind == FAILING}
            )
            alert_store.claim_due(
                connection,
                now,
                lambda first_id: new_message_id("alert", first_id, from_address),
                email=bool(settings.recipients),
                webhook=bool(settings.webhook_url),
            )
        report = AlertReport(detected=events, new=[event for event in events if event.key not in known])
        for message_id in alert_store.undelivered_batches(
            self.engine, email=bool(settings.recipients), webhook=bool(settings.webhook_url)
        ):
            with leases.holding(self.engine):
                if not alert_store.lease_batch(
                    self.engine, message_id, now, now + LEASE, leases.this_process(), force=force
                ):
                    continue
                error = self._deliver(message_id, now)
            if error is None:
                report.sent.append(message_id)
            else:
                report.failed.append((message_id, error))
        return report

    def _deliver(self, message_id: str, now: datetime) -> DeliveryError | None:
        settings = self.config.alerts
        public_url = self.config.dashboard.public_url
        events = alert_store.batch_events(self.engine, message_id)
        errors: list[DeliveryError] = []
        if settings.recipients and any(event.sent_at is None for event in events):
            message = alert_message(events, public_url)
            try:
                require(self.mailer).send(
                    compose(
                        from_address=self.config.smtp.from_address,
                        to=settings.recipients,
                        subject=message.subject,
                        text=message.text,
                        html=message.html,
                        message_id=message_id,
                        date=events[0].claimed_at or now,
                    )
                )
                alert_store.mark_batch(self.engine, message_id, email_at=self.clock())
            except DeliveryError as exc:
                errors.append(exc)
        if settings.webhook_url and any(event.webhook_sent_at is None for event in events):
            try:
                Webhook(settings.webhook_url, self.http).post(slack_payload(events, public_url))
                alert_store.mark_batch(self.engine, message_id, webhook_at=self.clock())
            except DeliveryError as exc:
                errors.append(exc)
        if not errors:
            alert_store.mark_batch_delivered(self.engine, message_id)
            return None
        attempts = max(event.attempts for event in events) + 1
        next_attempt = now + self.retry.delay(attempts)
        text = "; ".join(str(error) for error in errors)
        alert_store.mark_batch_failed(self.engine, message_id, text, next_attempt)
        log.warning("alert batch %s not delivered, retrying at %s: %s", message_id, next_attempt, text)
        first = errors[0]
        return first if len(errors) == 1 else DeliveryError(text)


def _stored(event: AlertEvent) -> alert_store.NewEvent:
    return alert_store.NewEvent(
        key=event.key,
        kind=event.kind,
        summary=event.summary,
        due_at=event.due_at,
        watch=event.watch,
        source=event.source,
        mention_id=event.mention_id,
        payload=dict(event.details),
    )
