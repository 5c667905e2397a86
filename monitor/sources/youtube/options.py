"""What the settings and a watch ask YouTube for: the option readers the source shares (numbers, flags),
the comment listings (`Stream`s) a watch names with `video_ids` and `channel_ids`, and whether it
searches for videos with its keywords."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.errors import ConfigError
from monitor.sources.http import option_list


@dataclass(frozen=True)
class Stream:
    """One listing of comment threads: a video's, or every video of a channel."""

    kind: str  # "video" or "channel"
    id: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def resource(self) -> str:
        return f"the comments of {self.kind} {self.id}"


def option_float(options: Mapping[str, Any], key: str, default: float, minimum: float | None) -> float:
    value = options.get(key)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"[sources.youtube] {key} must be a number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"[sources.youtube] {key} must be at least {minimum:g}, got {value!r}")
    return number


def option_bool(options: Mapping[str, Any], key: str) -> bool:
    value = options.get(key)
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def streams_of(options: Mapping[str, Any], key: str, kind: str) -> list[Stream]:
    return [Stream(kind, item) for item in option_list(options, key)]


def wants_search(options: Mapping[str, Any], streams: Collection[object]) -> bool:
    if options.get("search_videos") is None:
        return not streams
    return option_bool(options, "search_videos")
