"""Google Play Console review exports (reviews_<package>_<YYYYMM>.csv) read by `grumble import`.

The API lists only the last week's reviews; the Play Console's monthly exports (Download reports >
Reviews, or the gs://pubsite_prod_... bucket) hold the whole history. They are UTF-16 encoded CSV
(tabular.py decodes that by the byte-order mark) with these columns, recognised by the header or
chosen with `grumble import --format play-console`:

    Package Name, App Version Code, App Version Name, Reviewer Language, Device,
    Review Submit Date and Time, Review Submit Millis Since Epoch,
    Review Last Update Date and Time, Review Last Update Millis Since Epoch,
    Star Rating, Review Title, Review Text,
    Developer Reply Date and Time, Developer Reply Millis Since Epoch, Developer Reply Text, Review Link

Each row becomes a `google_play` mention with the API's own review id (taken from the Review Link,
which carries `reviewId=gp:...`, or `reviewid=` in older exports), the same URL and the same raw["play"]
summary, so a review imported from a file and collected from the API is one review, not two. Like the
API, a review's time is its last update. A rating without a written review has no link: it gets an id
derived from the app, device and submit time, stable across the monthly files it appears in.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from monitor.mention import Mention
from monitor.sources.google_play import GooglePlaySource
from monitor.sources.google_play_reviews import PLAY_KEY, language_code, review_url
from monitor.sources.text import as_int, parse_time

FORMAT = "play-console"
COLUMNS = (
    "Package Name",
    "App Version Code",
    "App Version Name",
    "Reviewer Language",
    "Device",
    "Review Submit Date and Time",
    "Review Submit Millis Since Epoch",
    "Review Last Update Date and Time",
    "Review Last Update Millis Since Epoch",
    "Star Rating",
    "Review Title",
    "Review Text",
    "Developer Reply Date and Time",
    "Developer Reply Millis Since Epoch",
    "Developer Reply Text",
    "Review Link",
)
# Enough to tell an export from any other CSV; the rest may be missing from older exports.
_SIGNATURE = frozenset(
    {"Package Name", "Star Rating", "Review Text", "Review Last Update Millis Since Epoch"}
)
_REVIEW_ID = re.compile(r"[?&#]reviewid=([^&#\s]+)", re.IGNORECASE)


def looks_like_play_console(row: Mapping[str, Any]) -> bool:
    """Whether a CSV row (by its columns) comes from a Play Console review export."""
    return row.keys() >= _SIGNATURE


def review_id_from_link(link: str | None) -> str | None:
    """gp:AOqp... from a Review Link (the reviewId= query of newer exports, reviewid= in older ones)."""
    match = _REVIEW_ID.search(link or "")
    return unquote(match.group(1)) if match else None


def _text(row: Mapping[str, Any], column: str) -> str | None:
    value = row.get(column)
    text = "" if value is None else str(value).strip()
    return text or None


def _moment(row: Mapping[str, Any], millis_column: str, time_column: str) -> Any:
    millis = as_int(_text(row, millis_column))
    if millis is not None:
        return parse_time(millis / 1000)
    return parse_time(_text(row, time_column))


def row_to_mention(row: Mapping[str, Any]) -> Mention:
    """Raises ValueError with a message fit for the user when the row cannot be used."""
    package = _text(row, "Package Name")
    if package is None:
        raise ValueError("no Package Name: is this a Play Console review export?")
    updated = _moment(row, "Review Last Update Millis Since Epoch", "Review Last Update Date and Time")
    submitted = _moment(row, "Review Submit Millis Since Epoch", "Review Submit Date and Time")
    when = updated or submitted
    if when is None:
        raise ValueError(
            "no Review Last Update or Submit time (expected milliseconds since the epoch, or ISO 8601)"
        )
    stars = as_int(_text(row, "Star Rating"))
    if stars is None or not 1 <= stars <= 5:
        raise ValueError(f"Star Rating {row.get('Star Rating')!r} is not 1 to 5")
    link = _text(row, "Review Link")
    review_id = review_id_from_link(link)
    if review_id is None:
        if link is not None:
            raise ValueError(
                f"Review Link {link[:80]!r} has no reviewId=; the row's review cannot be identified"
            )
        basis = "|".join(
            [package, _text(row, "Device") or "", str(submitted.timestamp() if submitted else ""), str(stars)]
        )
        review_id = "play-csv:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()
    replied = _moment(row, "Developer Reply Millis Since Epoch", "Developer Reply Date and Time")
    reply_text = _text(row, "Developer Reply Text")
    summary: dict[str, Any] = {
        "package_name": package,
        "review_id": review_id,
        "star_rating": stars,
        "last_modified": when.isoformat(),
        "submitted_at": submitted.isoformat() if submitted else None,
        "reviewer_language": _text(row, "Reviewer Language"),
        "device": _text(row, "Device"),
        "app_version_code": as_int(_text(row, "App Version Code")),
        "app_version_name": _text(row, "App Version Name"),
        "developer_reply": (
            {"text": reply_text, "last_modified": replied.isoformat() if replied else None}
            if reply_text
            else None
        ),
        "imported_from": "play-console-csv",
    }
    return Mention(
        source=GooglePlaySource.name,
        external_id=review_id,
        text=_text(row, "Review Text") or "",
        title=_text(row, "Review Title"),
        created_at=when,
        url=review_url(package, review_id),
        rating=float(stars),
        language=language_code(_text(row, "Reviewer Language")),
        metrics={"rating": stars},
        raw={"csv": dict(row), PLAY_KEY: {k: v for k, v in summary.items() if v is not None}},
    )
