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
from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from monitor.collect.run import collect
from monitor.collect.saving import Claim
from monitor.config import Config
from monitor.helpdesk.registry import Helpdesks
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
from monitor.team.run import TeamNews
from monitor.topics.assign import assign_new
from monitor.topics.embed import EmbedderHolder
from monitor.topics.refit import refit_watch
from monitor.webhooks.delivery import WebhookDelivery
from monitor.webhooks.delivery import http_client as webhook_client

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
        self._webhooks: WebhookDelivery | None = None
        self._helpdesks: Helpdesks | None = None
        self._team_news: TeamNews | None = None
        # The sentence encoder for complaint topics, loaded on first use (monitor/topics/).
        self.embedder = EmbedderHolder()
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
                score_pending(
                    self.engine,
                    self.model.get(),
                    batch_size=self.config.model.batch_size,
                    after_batch=self.assign_topics if self.config.topics.enabled else None,
                )
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

    def learn(self) -> None:
        """Every watch learns from its corrections (monitor/learn/): a better calibration is activated
        and its open inbox re-scored; one that does not beat the current one is recorded as refused."""
        from monitor.learn.dev_check import probe
        from monitor.learn.run import learn_watch

        model = self.model.get()
        with record_job("learn"):
            for watch in self.config.watch_names:
                outcome = learn_watch(
                    self.engine,
                    model,
                    watch,
                    self.config.learn,
                    actor="scheduler",
                    probe=lambda: probe(model.version),
                    batch_size=self.config.model.batch_size,
                )
                if outcome.decision != "skipped":
                    log.info("learn %s: %s: %s", watch, outcome.decision, outcome.reason)

    def send_to_helpdesks(self) -> None:
        """[[helpdesk.rules]] hand newly scored mentions to their helpdesk, and hand-offs that did not
        go through are tried again after their backoff (monitor/helpdesk/rules.py)."""
        from monitor.helpdesk.rules import apply_helpdesk_rules, retry_handoffs

        if self._helpdesks is None:
            self._helpdesks = Helpdesks(self.config.helpdesk)
        with record_job("helpdesk"):
            made = apply_helpdesk_rules(
                self.engine, self.config.helpdesk, self._helpdesks, self.config.responder
            )
            retried = retry_handoffs(self.engine, self._helpdesks, self.config.responder)
        if made or retried:
            sent = sum(link.sent for link in [*made, *retried])
            log.info("helpdesk: %d hand-off(s) by rule, %d retried, %d sent", len(made), len(retried), sent)

    def check_alerts(self) -> None:
        with record_job("alerts"):
            report = self.alerts().check_alerts()
        for event in report.new:
            log.info("alert: %s", event.summary)
        for message_id, error in report.failed:
            log.warning("alert %s not delivered, will retry: %s", message_id, error)

    def deliver_webhooks(self) -> None:
        """Signed webhooks ([[webhooks.endpoints]]): record what happened since the last run, deliver
        what is due (monitor/webhooks/delivery.py logs each failure and a disabled endpoint)."""
        if self._webhooks is None:
            self._webhooks = WebhookDelivery(self.config, self.engine, http=webhook_client())
        with record_job("webhooks"):
            report = self._webhooks.run()
        if report.delivered or report.failed:
            log.info("webhooks: %d delivered, %d attempt(s) failed", report.delivered, report.failed)

    def notify_team(self) -> None:
        """Tell people what waits for them: assigned, approval asked, approved, sent back, @mentioned
        (monitor/team/): into their For you lists, and by email where they want it."""
        if self._team_news is None:
            self._team_news = TeamNews(self.config, self.engine, mailer_for(self.config.smtp))
        with record_job("notify-team"):
            report = self._team_news.run()
        if report.told or report.emails.sent:
            log.info("told people %d new thing(s); %d email(s) sent", report.told, report.emails.sent)
        for error in report.emails.failed:
            log.warning("a notification email was not sent, will retry: %s", error)

    def assign_topics(self, mention_ids: Sequence[int]) -> None:
        """Newly scored unhappy mentions join their nearest complaint topic (monitor/topics/assign.py).
        A failure here is logged, not raised: the scores are committed, and the next refit assigns them."""
        try:
            assign_new(self.engine, self.embedder.get, mention_ids)
        except Exception:
            log.exception("complaint topics: %d scored mention(s) not assigned yet", len(mention_ids))

    def refit_topics(self) -> None:
        """Every watch's complaint topics fitted again; ids, names and people's edits kept."""
        with record_job("topics-refit"):
            for watch in self.config.watches:
                outcome = refit_watch(self.engine, self.embedder.get(), watch)
                log.info("topics: %s", outcome.describe())
