"""Sources by name. A new source is one module with a `build(settings)` function and one line here."""

from __future__ import annotations

from collections.abc import Callable

from monitor.errors import UnknownSourceError
from monitor.sources import (
    app_store_connect,
    appstore,
    bluesky,
    demo,
    file,
    google_business,
    google_play,
    hackernews,
    mastodon,
    reddit,
    rss,
    youtube,
)
from monitor.sources.base import Replier, Source, SourceSettings
from monitor.sources.quota import QuotaLedger
from monitor.token_bucket import RateLimits

SourceBuilder = Callable[[SourceSettings], Source]

BUILDERS: dict[str, SourceBuilder] = {
    "demo": demo.build,
    "file": file.build,
    "reddit": reddit.build,
    "hackernews": hackernews.build,
    "mastodon": mastodon.build,
    "bluesky": bluesky.build,
    "appstore": appstore.build,
    "app_store_connect": app_store_connect.build,
    "google_play": google_play.build,
    "google_business": google_business.build,
    "rss": rss.build,
    "youtube": youtube.build,
}

# Sources that keep a limit of their own on their requests, and the builders that take the limits.
RATE_LIMITED: dict[str, Callable[[SourceSettings, RateLimits], Source]] = {
    "reddit": reddit.build,
}

# Sources that count an API's quota units (sources/quota.py), and the builders that take the ledger.
QUOTA_LIMITED: dict[str, Callable[[SourceSettings, QuotaLedger], Source]] = {
    "google_play": google_play.build_with_quotas,
    "youtube": youtube.build,
}


def source_names() -> list[str]:
    return sorted(BUILDERS)


def build_source(
    settings: SourceSettings, rate_limits: RateLimits | None = None, quotas: QuotaLedger | None = None
) -> Source:
    """The source named by `settings`. `rate_limits` keeps the limits it puts on its own requests (see
    RATE_LIMITED): a process with a database passes `store.rate_limits.shared_rate_limits(engine)`, so
    that all processes on that database keep one limit between them; without it, each process keeps
    its own. `quotas` likewise keeps the quota counts of QUOTA_LIMITED sources
    (`store.quotas.SharedQuotaLedger(engine)`; without it, this process's own counts)."""
    try:
        builder = BUILDERS[settings.name]
    except KeyError:
        raise UnknownSourceError(settings.name, list(BUILDERS)) from None
    if rate_limits is not None and settings.name in RATE_LIMITED:
        return RATE_LIMITED[settings.name](settings, rate_limits)
    if quotas is not None and settings.name in QUOTA_LIMITED:
        return QUOTA_LIMITED[settings.name](settings, quotas)
    return builder(settings)


def reply_blocker(replier: Replier | None, external_id: str) -> str | None:
    """Why a reply to this mention cannot be posted from Grumble (copy it and post by hand), or None."""
    if demo.is_demo(external_id):
        return "it is a sample mention from the demo source, not a real post"
    if replier is None:
        return "this source has no reply API"
    missing = replier.missing_login()
    return f"{replier.name} needs {missing}" if missing is not None else None
