"""The source protocol: one small class per API, built around an injected client.

A source turns one API page into `Mention`s and an opaque cursor. It does not filter by the watch's
required/excluded words or languages (the collector does, the same way for every source), it does not
touch the store, and it raises only `SourceError`s, so a failing API never takes the scheduler down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

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


class Source(Protocol):
    name: ClassVar[str]

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        """Mentions for `watch` newer than `cursor` (None: first run, backfill up to max_backfill)."""
        ...
