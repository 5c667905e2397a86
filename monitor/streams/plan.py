"""Which streams the configuration asks for: one per (source, endpoint), with the watches it serves.

A watch streams a source with `stream` in its source table:

    [watches.sources.bluesky]
    stream = true                 # Jetstream, matched on our side by the watch's keywords

    [watches.sources.mastodon]
    hashtags = ["acme"]
    stream = true                 # the hashtags' streams ("public" or "list:<id>" with a user token)

The endpoint is the source's (`[sources.bluesky] jetstream_url`, `[sources.mastodon] streaming_url`,
by default the instance's own `/api/v1/streaming`), so every watch on one endpoint shares its connection.
`[sources.bluesky] jetstream_protocol = "v2"` streams Jetstream's subscribeEvents XRPC path instead of
v1's `/subscribe`: a different endpoint, so a v1 cursor (a time) is never sent as a v2 one (a seq).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.config import Config
from monitor.errors import ConfigError
from monitor.mention import Watch
from monitor.sources import jetstream, jetstream_v2, mastodon_stream
from monitor.sources.base import SourceSettings
from monitor.store.streams import StreamKey

STREAMABLE = ("bluesky", "mastodon")
JETSTREAM_PROTOCOLS = ("v1", "v2")


@dataclass(frozen=True)
class StreamPlan:
    key: StreamKey
    watches: tuple[Watch, ...]


def stream_option(watch: Watch, source: str) -> Any:
    return watch.options_for(source).get("stream")


def streams_source(watch: Watch, source: str) -> bool:
    """Whether the watch asked for this source's live stream (checked by `planned_streams`)."""
    option = stream_option(watch, source)
    return option is not None and option is not False and option != "false"


def _check(watch: Watch, source: str) -> None:
    option = stream_option(watch, source)
    where = f"[watches.sources.{source}] stream of watch {watch.name!r}"
    if source not in STREAMABLE:
        raise ConfigError(f"{where}: {source} has no live stream; streams: {', '.join(STREAMABLE)}")
    valid = option is True or (
        source == "mastodon"
        and isinstance(option, str)
        and (option == "public" or option.startswith("list:"))
    )
    if not valid:
        accepted = 'true, "public" or "list:<id>"' if source == "mastodon" else "true or false"
        raise ConfigError(f"{where} is {option!r}; expected {accepted}")
    if not watch.keywords:
        # A stream is every post: without keywords the watch would keep the whole network.
        raise ConfigError(f"{where}: a streamed watch needs keywords to match the stream against")


def jetstream_protocol(settings: SourceSettings) -> str:
    """`[sources.bluesky] jetstream_protocol`: "v1" (the default) or "v2"."""
    value = str(settings.options.get("jetstream_protocol") or "v1").strip().lower()
    if value not in JETSTREAM_PROTOCOLS:
        raise ConfigError(
            f"[sources.bluesky] jetstream_protocol is {value!r}; expected {' or '.join(JETSTREAM_PROTOCOLS)}"
        )
    return value


def endpoint(settings: SourceSettings) -> str:
    options: Mapping[str, Any] = settings.options
    if settings.name == "bluesky":
        configured = str(options.get("jetstream_url") or "")
        if jetstream_protocol(settings) == "v2":
            return jetstream_v2.stream_url(configured or jetstream_v2.DEFAULT_JETSTREAM_V2_URL)
        return configured or jetstream.DEFAULT_JETSTREAM_URL
    return mastodon_stream.streaming_url(settings.base_url, str(options.get("streaming_url") or "") or None)


def planned_streams(config: Config) -> list[StreamPlan]:
    """The streams to run, each with every watch on it; a ConfigError names a wrong `stream` option."""
    plans: dict[StreamKey, list[Watch]] = {}
    for watch in config.watches:
        for source in watch.sources:
            if not streams_source(watch, source):
                continue
            _check(watch, source)
            key = StreamKey(source, endpoint(config.source_settings(source)))
            plans.setdefault(key, []).append(watch)
    return [StreamPlan(key, tuple(watches)) for key, watches in plans.items()]


def stream_for(config: Config, watch: Watch, source: str) -> StreamKey | None:
    """The stream that covers (watch, source), if the watch streams it."""
    if source not in STREAMABLE or not streams_source(watch, source):
        return None
    return StreamKey(source, endpoint(config.source_settings(source)))


def watch_names(plan: StreamPlan) -> Sequence[str]:
    return [watch.name for watch in plan.watches]
