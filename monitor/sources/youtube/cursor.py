"""The cursor YouTube collection keeps between runs: the streams' paging cursor (sources/paging.py)
and, per search term, when it was last searched and the videos it found, as one JSON string; with
`restore` to put back the streams a run could not ask and `kept_videos` for the videos still followed."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from monitor.sources.paging import decode_cursor, encode_cursor
from monitor.sources.text import as_int, as_mapping

log = logging.getLogger("monitor.sources.youtube")  # the package's logger, as before the split


def decode(cursor: str | None) -> dict[str, Any]:
    """{"paging": the streams' cursor, "searches": {term: {"at", "videos": {id: found_at}}}}."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("yt") != 1:
        log.warning("youtube: ignoring an unreadable cursor; starting a new backfill")
        return {}
    searches = data.get("searches")
    return {
        "paging": data.get("paging") if isinstance(data.get("paging"), str) else None,
        "searches": dict(searches) if isinstance(searches, dict) else {},
    }


def encode(state: Mapping[str, Any]) -> str:
    return json.dumps({"yt": 1, **state}, separators=(",", ":"), sort_keys=True)


def restore(source: str, before: str | None, after: str | None, keys: list[str]) -> str | None:
    """The streams' cursor `after`, with the streams in `keys` as they were in `before`."""
    old, new = decode_cursor(source, before), decode_cursor(source, after)
    for key in keys:
        if key in old:
            new[key] = old[key]
        else:
            new.pop(key, None)
    return encode_cursor(new)


def kept_videos(entry: Any, since: datetime) -> list[str]:
    videos = as_mapping(as_mapping(entry).get("videos"))
    cutoff = since.timestamp()
    return [video for video, at in videos.items() if (as_int(at) or 0) >= cutoff]
