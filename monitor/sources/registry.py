"""Sources by name. A new source is one module with a `build(settings)` function and one line here."""

from __future__ import annotations

from collections.abc import Callable

from monitor.errors import UnknownSourceError
from monitor.sources import appstore, bluesky, demo, file, hackernews, mastodon, reddit, rss
from monitor.sources.base import Replier, Source, SourceSettings
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
    "rss": rss.build,
}

# Sources that keep a limit of their own on their requests, and the builders that take the limits.
RATE_LIMITED: dict[str, Callable[[SourceSettings, RateLimits], Source]] = {
    "reddit": reddit.build,
}


def source_names() -> list[str]:
    return sorted(BUILDERS)


def build_source(settings: SourceSettings, rate_limits: RateLimits | None = None) -> Source:
    """The source named by `settings`. `rate_limits` keeps the limits it puts on its own requests (see
    RATE_LIMITED): a process with a database passes `store.rate_limits.shared_rate_limits(engine)`, so
    that all processes on that database keep one limit between them; without it, each process keeps
    its own."""
    try:
        builder = BUILDERS[settings.name]
    except KeyError:
        raise UnknownSourceError(settings.name, list(BUILDERS)) from None
    if rate_limits is not None and settings.name in RATE_LIMITED:
        return RATE_LIMITED[settings.name](settings, rate_limits)
    return builder(settings)


def reply_blocker(replier: Replier | None, external_id: str) -> str | None:
    """Why a reply to this mention cannot be posted from Grumble (copy it and post by hand), or None."""
    if demo.is_demo(external_id):
        return "it is a demo mention, which exists on no network"
    if replier is None:
        return "this source has no reply API"
    missing = replier.missing_login()
    return f"{replier.name} needs {missing}" if missing is not None else None
