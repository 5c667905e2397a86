"""The settings Grumble runs with: frozen dataclasses, one per section of grumble.toml, and `Config`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path

from monitor.auth.users import User
from monitor.config.api import ApiSettings
from monitor.config.helpdesk import HelpdeskSettings
from monitor.config.learn import LearnSettings
from monitor.config.topics import TopicSettings
from monitor.config.watches import watch_list
from monitor.config.webhooks import WebhookSettings
from monitor.errors import ConfigError
from monitor.mention import Watch
from monitor.sources.base import SourceSettings

DEFAULT_DATABASE_URL = "sqlite:///grumble.db"


@dataclass(frozen=True)
class Schedule:
    collect_every_minutes: float = 15.0
    score_every_minutes: float = 5.0


@dataclass(frozen=True)
class QueueSettings:
    """`[queue]`: the job queue on PostgreSQL (`grumble worker`); unused on SQLite."""

    concurrency: int = 2  # jobs one worker runs at once: a collection can wait on a source while one scores
    heartbeat_seconds: float = 10.0
    # A worker silent this long is taken for dead, and its running jobs are handed to another.
    stalled_after_seconds: float = 60.0


@dataclass(frozen=True)
class ModelSettings:
    name: str | None = None  # None: the bundled model
    batch_size: int = 64


@dataclass(frozen=True)
class DashboardSettings:
    host: str = "localhost"
    port: int = 8501
    # Where people reach the dashboard, for links in digests and alerts.
    public_url: str = "http://localhost:8501"
    # The zone the dashboard shows times in, for users without their own `timezone`.
    timezone: str = "UTC"
    # Addresses (or networks) of the reverse proxies in front of the dashboard: only from these is
    # X-Forwarded-For believed, so a client cannot pick the address its failed sign-ins count against.
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricsSettings:
    """Where `grumble run` serves /metrics and /healthz; no port: not served (a command-line
    --metrics-port overrides it, e.g. for a worker beside the scheduler on one host)."""

    host: str = "localhost"
    port: int | None = None


SMTP_SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class SmtpSettings:
    """How digests and alerts leave: `host` None means mail is not set up."""

    host: str | None = None
    port: int = 587
    security: str = "starttls"  # one of SMTP_SECURITY
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    from_address: str = "grumble@localhost"
    timeout_s: float = 30.0
    max_attempts: int = 3  # tries within one send before the digest waits for the retry job
    ca_file: str | None = None  # a CA bundle to trust besides the system's (a private mail server)


DIGEST_FREQUENCIES = ("hourly", "daily", "weekly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class DigestList:
    """One `[[digests]]` entry: who gets which watches' negative mentions, and when."""

    name: str
    recipients: tuple[str, ...]
    watches: tuple[str, ...] = ()  # empty: every watch
    every: str = "daily"  # one of DIGEST_FREQUENCIES
    at: time = time(8, 0)  # local time of day (hourly: only the minute counts)
    weekday: str = "monday"  # for weekly digests
    timezone: str = "UTC"
    min_priority: float = 0.0
    send_when_quiet: bool = False
    # The most urgent this many are written out; the rest are counted, with a link to the inbox.
    max_mentions: int = 50
    # A share-of-voice section for the list's brand watches against their competitors, over the period.
    include_comparison: bool = False
    # Mentions only competitor watches matched (a competitor's unhappy customers) are left out unless
    # this is on, or the list names those watches in `watches`.
    include_competitors: bool = False

    @property
    def period(self) -> timedelta:
        return {"hourly": timedelta(hours=1), "weekly": timedelta(days=7)}.get(self.every, timedelta(days=1))


@dataclass(frozen=True)
class AlertSettings:
    recipients: tuple[str, ...] = ()
    webhook_url: str | None = field(default=None, repr=False)  # Slack-compatible; the URL is a secret
    spike_window_minutes: float = 60.0
    spike_baseline_days: int = 7
    spike_min_count: int = 10
    spike_sigma: float = 4.0
    loud_priority: float = 4.0
    source_failing_minutes: float = 60.0
    check_every_minutes: float = 5.0

    @property
    def enabled(self) -> bool:
        return bool(self.recipients or self.webhook_url)


@dataclass(frozen=True)
class ResponderRule:
    """One `[[responder.rules]]`: a new case for a mention of `watch` and/or from `source` (and with
    `label`, negative by default) is opened and assigned to `assignee`."""

    assignee: str
    watch: str | None = None
    source: str | None = None
    label: str | None = "negative"

    def matches(self, watches: list[str], source: str, label: str | None) -> bool:
        return (
            (self.watch is None or self.watch in watches)
            and (self.source is None or self.source == source)
            and (self.label is None or self.label == label)
        )


@dataclass(frozen=True)
class ReplyTemplate:
    """One `[[reply_templates]]`: text with {author}, {brand}, {product}, {link} and {case_link}."""

    name: str
    text: str


@dataclass(frozen=True)
class ResponderSettings:
    """`[responder]`: response and resolution targets, approval rules, assignment rules, brand names."""

    response_target_minutes: float = 60.0
    resolution_target_minutes: float = 1440.0
    # Replies drafted by these roles wait for an approver; so do replies to mentions at least this urgent.
    approval_roles: tuple[str, ...] = ()
    approval_min_priority: float | None = None
    approver_role: str = "admin"
    brand: str | None = None
    product: str | None = None
    rules: tuple[ResponderRule, ...] = ()


@dataclass(frozen=True)
class Config:
    path: Path | None
    database_url: str = DEFAULT_DATABASE_URL
    watches: tuple[Watch, ...] = ()
    sources: Mapping[str, SourceSettings] = field(default_factory=dict)
    schedule: Schedule = field(default_factory=Schedule)
    queue: QueueSettings = field(default_factory=QueueSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    # Dashboard users; none means local use without a login. `oidc` signs in through st.login.
    users: tuple[User, ...] = ()
    oidc: bool = False
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    digests: tuple[DigestList, ...] = ()
    alerts: AlertSettings = field(default_factory=AlertSettings)
    responder: ResponderSettings = field(default_factory=ResponderSettings)
    reply_templates: tuple[ReplyTemplate, ...] = ()
    helpdesk: HelpdeskSettings = field(default_factory=HelpdeskSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    learn: LearnSettings = field(default_factory=LearnSettings)
    topics: TopicSettings = field(default_factory=TopicSettings)
    api: ApiSettings = field(default_factory=ApiSettings)

    @property
    def watch_names(self) -> tuple[str, ...]:
        """In the file's order, for pickers."""
        return tuple(watch.name for watch in self.watches)

    def watch(self, name: str) -> Watch:
        for watch in self.watches:
            if watch.name == name:
                return watch
        raise ConfigError(
            f"{self._where()}: no watch named {name!r}; configured watches: {watch_list(self.watches)}"
        )

    def source_settings(self, name: str) -> SourceSettings:
        return self.sources.get(name) or SourceSettings(name=name)

    def collect_every_minutes(self, source: str) -> float:
        """How often each (watch, `source`) pair is polled: the source's own pace, else the schedule's."""
        own = self.source_settings(source).collect_every_minutes
        return own if own is not None else self.schedule.collect_every_minutes

    def require_mail(self) -> None:
        """For long-running commands: digests or mailed alerts with no way to send them would fail
        only hours later, at send time; say so at start instead."""
        if self.smtp.host is not None:
            return
        wanting = [f"[[digests]] {d.name!r}" for d in self.digests]
        if self.alerts.recipients:
            wanting.append("[alerts] recipients")
        if wanting:
            raise ConfigError(
                f"{self._where()}: {', '.join(wanting)} send mail, but [smtp] has no host; set [smtp] host "
                "(or GRUMBLE_SMTP_HOST), or remove them"
            )

    def jobs(self) -> list[tuple[Watch, str]]:
        """One collection job per (watch, source) pair."""
        return [(watch, source) for watch in self.watches for source in watch.sources]

    def _where(self) -> str:
        return str(self.path) if self.path else "configuration"
