"""The work Grumble does on a schedule, as plain methods: collect one (watch, source), score what is
pending, send a digest, retry unsent digests, settle unconfirmed replies, check alerts.

Who calls them differs by deployment, not what they do: on SQLite the APScheduler in `grumble run`
calls them in its own threads (monitor/scheduler.py); on PostgreSQL the elected scheduler enqueues
them and `grumble worker` processes run them (monitor/queue/). New mentions are scored right after
the collection that brought them, so a complaint reaches the inbox seconds after its poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from monitor.collect.run import collect
from monitor.collect.saving import Claim
from monitor.config import Config
from monitor.mention import Watch
from monitor.observe.metrics import record_job
from monitor.respond.cases import apply_rules
from monitor.respond.posting import settle_unconfirmed
from monitor.respond.remote_state import refresh_remote_states
from monitor.respond.workflow import Repliers
from monitor.score.run import Model, load_model, score_pending
from monitor.sources.base import Source
from monitor.sources.registry import build_source
from monitor.store.quotas import SharedQuotaLedger
from monitor.store.rate_limits import shared_rate_limits
from monitor.streams.fallback import stream_is_covering
from monitor.surface.alert_delivery import AlertDelivery
from monitor.surface.digest_delivery import DigestDelivery, find_list
from monitor.surface.mail import mailer_for
from monitor.surface.webhook import http_client

log = logging.getLogger(__name__)


class ModelHolder:
    """Loads the model on first use, once, whichever job asks first."""

    def __init__(self, loader: Callable[[], Model]) -> None:
        self._loader = loader
        self._model: Model | None = None
        self._lock = threading.Lock()

    def get(self) -> Model:
        with self._lock:
            if self._model is None:
                self._model = self._loader()
            return self._model


class Jobs:
    """What the scheduler runs; plain methods so tests can call them without a scheduler. A job that
    fails raises: the scheduler's error listener (`log_job_error`) or the queue logs it, and the others
    go on. Each is counted and timed here (`record_job`), whoever called it."""

    def __init__(self, config: Config, engine: Engine, model: ModelHolder) -> None:
        self.config = config
        self.engine = engine
        self.model = model
        self._sources: dict[str, Source] = {}
        self._digests: DigestDelivery | None = None
        self._alerts: AlertDelivery | None = None
        # The same rule as the dashboard's: a source that cannot be built or cannot reply is None.
        self.replier = Repliers(self.source)
        # What follows a collection that brought new or edited mentions: scoring them here and now, or,
        # in a queue worker, queueing a scoring job that any free worker takes (monitor/queue/worker.py).
        self.after_collect: Callable[[], object] = self.score

    @classmethod
    def for_config(cls, config: Config, engine: Engine) -> Jobs:
        """The Jobs a command runs: the configured model, loaded on first use."""
        return cls(config, engine, ModelHolder(lambda: load_model(config.model.name)))

    def source(self, name: str) -> Source:
        if name not in self._sources:
            # Rate limits kept in the database: every process on it shares one per API client.
            self._sources[name] = build_source(
                self.config.source_settings(name),
                shared_rate_limits(self.engine),
                quotas=SharedQuotaLedger(self.engine),
            )
        return self._sources[name]

    def settle_replies(self) -> int:
        """Replies whose posting was not confirmed: recorded as posted when the source shows them.
        Also records a store publishing a reply it held back (App Store Connect's pending responses).
        Returns how many were settled."""
        with record_job("settle-replies"):
            settled = settle_unconfirmed(self.engine, self.replier)
            refresh_remote_states(self.engine, self.replier)
        if settled:
            log.info("%d unconfirmed reply(ies) found on their source and recorded as posted", len(settled))
        return len(settled)

    def collect(self, watch: Watch, source_name: str, claim: Claim | None = None) -> None:
        """`claim`: a queued run's hold on its job (monitor/queue/fence.py), checked as it writes."""
        if stream_is_covering(self.config, self.engine, watch, source_name):
            return  # its live stream brings these mentions; polling stands in only while it is down
        # collect() records a failing source in its health and never raises for it.
        with record_job("collect"):
            result = collect(self.engine, watch, self.source(source_name), claim=claim)
        if result.new or result.edited:  # an edit's score was cleared: it waits for one like a new one
            self.after_collect()

    def score(self) -> None:
        try:
            with record_job("score"):
                score_pending(self.engine, self.model.get(), batch_size=self.config.model.batch_size)
        finally:
            # [[responder.rules]] open and assign cases for newly scored mentions (rules may ask for a
            # label); run even when scoring failed, for the mentions scored before it did.
            opened = apply_rules(self.engine, self.config.responder)
            if opened:
                log.info("opened %d case(s) by the responder rules", opened)

    # Built on first use: a scheduler without digests or alerts needs no mailer or HTTP client.

    def digests(self) -> DigestDelivery:
        if self._digests is None:
            self._digests = DigestDelivery(self.config, self.engine, mailer_for(self.config.smtp))
        return self._digests

    def alerts(self) -> AlertDelivery:
        if self._alerts is None:
            self._alerts = AlertDelivery(
                self.config, self.engine, mailer=mailer_for(self.config.smtp), http=http_client()
            )
        return self._alerts

    def digest(self, list_name: str) -> None:
        with record_job("digest"):
            outcomes = self.digests().run_digest(find_list(self.config, list_name))
        for outcome in outcomes:
            level = logging.WARNING if outcome.status in ("failed", "deferred") else logging.INFO
            log.log(level, "%s", outcome.describe())

    def retry_digests(self) -> None:
        with record_job("digest-retry"):
            outcomes = self.digests().retry_unsent()
        for outcome in outcomes:
            if outcome.status in ("sent", "failed"):
                log.log(
                    logging.INFO if outcome.status == "sent" else logging.WARNING, "%s", outcome.describe()
                )

    def check_alerts(self) -> None:
        with record_job("alerts"):
            report = self.alerts().check_alerts()
        for event in report.new:
            log.info("alert: %s", event.summary)
        for message_id, error in report.failed:
            log.warning("alert %s not delivered, will retry: %s", message_id, error)
