"""The source protocol: one small class per API, built around an injected client.

A source turns one API page into `Mention`s and an opaque cursor. It does not filter by the watch's
required/excluded words or languages (the collector does, the same way for every source), it does not
touch the store, and it raises only `SourceError`s, so a failing API never takes the scheduler down.

Sources that can answer in public also implement `Replier` (Reddit, Mastodon, Bluesky). Replying is
built for exactly-once posting: `reply` sends one request and never retries it on its own after a
timeout or a server error (it raises `ReplyUnconfirmed` instead), and `find_reply` looks on the source
for a reply sent with the same idempotency key, so a retry can first check whether the last try landed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from monitor.mention import Page, Watch

USER_AGENT = "grumble/0.1 (self-hosted sentiment monitor; +https://github.com/grumble-monitor/grumble)"


@dataclass(frozen=True)
class SourceSettings:
    """Operator settings for one source, from `[sources.NAME]` in grumble.toml and GRUMBLE_* variables.

    `base_url` lets operators point at a proxy and tests at a loopback server. `options` holds the rest
    (credentials, page bounds) as given; each source reads the keys it knows.
    """

    name: str
    base_url: str | None = None
    max_backfill: int = 200
    timeout_s: float = 20.0
    options: Mapping[str, Any] = field(default_factory=dict)
    # How often each (watch, source) pair is polled; None: [schedule] collect_every_minutes. A store whose
    # API lists only the last week (Google Play) or counts a daily quota (YouTube) wants its own pace.
    collect_every_minutes: float | None = None


class Source(Protocol):
    name: ClassVar[str]

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        """Mentions for `watch` newer than `cursor` (None: first run, backfill up to max_backfill)."""
        ...


@dataclass(frozen=True)
class ReplyTarget:
    """The mention a reply answers, as stored: what a source needs to address its reply."""

    source: str
    external_id: str
    url: str | None = None
    author: str | None = None
    parent_id: str | None = None
    raw: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PostedReply:
    """A reply the source published: its id there and where people can see it.

    `state` is for stores that publish a reply later than they accept it (App Store Connect holds a
    response as PENDING_PUBLISH until Apple publishes it): "pending" or "published", stored with the
    case's reply (case_replies.remote_state) and shown on the case; None where the source does not say.
    """

    id: str
    url: str | None
    state: str | None = None


@dataclass(frozen=True)
class TextLength:
    """A reply's length counted the way its source counts it, against the source's limit."""

    count: int
    limit: int
    unit: str  # "characters" or "graphemes" (what a reader sees as one character)
    note: str = ""  # how the source counts, when it is not obvious (links count as 23 on Mastodon)

    @property
    def ok(self) -> bool:
        return 0 < self.count <= self.limit

    def describe(self) -> str:
        return f"{self.count:,} / {self.limit:,} {self.unit}" + (f" ({self.note})" if self.note else "")


@runtime_checkable
class Replier(Protocol):
    """A source that can answer a mention in public."""

    name: ClassVar[str]

    def measure(self, text: str) -> TextLength:
        """The text's length as the source counts it, and the source's limit."""
        ...

    def missing_login(self) -> str | None:
        """What the source still needs before it can post (its login settings), or None when it can."""
        ...

    def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        """Publish `text` as a reply to `target`: one request, never retried after it may have landed."""
        ...

    def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
        """The reply an earlier `reply` with this key (and text) published, if the source shows one."""
        ...
