"""Reading Google Play reviews: a Review as the Developer API sends it, into a `Mention`.

`parse_review` maps one reviews.list / reviews.get Review (its userComment and developerComment, a
"title<TAB>body" text, a translation when translationLanguage was asked for) to a Mention whose
`raw["play"]` (`PLAY_KEY`) keeps a flat summary of the review in the same shape a Play Console CSV
export gives (monitor/sources/play_console.py), so the two are one review. `review_url` is the review's
link on Google Play, and `package_of` finds which app a stored review belongs to. The client that lists
and answers reviews, and counts its quotas, is google_play.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from monitor.mention import Mention
from monitor.sources.base import ReplyTarget
from monitor.sources.http import SkipLog
from monitor.sources.text import as_int, as_mapping, as_str, metrics, parse_time

SOURCE = "google_play"
STORE_URL = "https://play.google.com/store/apps/details"

# What a stored Play review keeps, flat, beside Google's own JSON (raw["play"]): the same shape from
# the API and from a Play Console CSV export, so the two are one review.
PLAY_KEY = "play"


def review_url(package: str, review_id: str) -> str:
    """The review on Google Play; the Play Console export's "Review Link" has the same form."""
    return f"{STORE_URL}?{urlencode({'id': package, 'reviewId': review_id})}"


def split_title(text: str) -> tuple[str | None, str]:
    """Play sends a review's title and body as one text, "title<TAB>body"; a review without a title
    starts with the body (or with a bare tab)."""
    if "\t" not in text:
        return None, text.strip()
    title, _, body = text.partition("\t")
    title, body = title.strip(), body.strip()
    if not body:
        return None, title
    return title or None, body


def language_code(tag: str | None) -> str | None:
    """'zh-Hant_TW' -> 'zh': the primary language, which is what the verdict rule compares."""
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-")[0].strip().lower()
    return primary or None


def _timestamp(value: Any) -> datetime | None:
    """Google's {"seconds": "1452114723", "nanos": 913000000}."""
    data = as_mapping(value)
    seconds = as_int(data.get("seconds"))
    if seconds is None:
        return None
    nanos = as_int(data.get("nanos")) or 0
    return parse_time(seconds + nanos / 1e9)


def parse_review(
    review: Any, package: str, skips: SkipLog, translation_language: str | None = None
) -> tuple[float, Mention] | None:
    """One Review as (lastModified as epoch seconds, Mention); None (and a skip counted) if unusable."""
    if not isinstance(review, Mapping):
        skips.skip("not an object")
        return None
    review_id = as_str(review.get("reviewId"))
    if review_id is None:
        skips.skip("without reviewId")
        return None
    comments = (
        [c for c in review.get("comments") or () if isinstance(c, Mapping)]
        if isinstance(review.get("comments"), list)
        else []
    )
    user = next((as_mapping(c.get("userComment")) for c in comments if c.get("userComment")), None)
    developer = next(
        (as_mapping(c.get("developerComment")) for c in comments if c.get("developerComment")), None
    )
    if not user:
        skips.skip("without userComment")
        return None
    modified = _timestamp(user.get("lastModified"))
    if modified is None:
        skips.skip("without lastModified")
        return None
    given = as_str(user.get("text"))
    original = as_str(user.get("originalText"))
    if given is None and original is None:
        skips.skip("without text")
        return None
    title, text = split_title(given or original or "")
    if not text:
        skips.skip("without text")
        return None
    rating = as_int(user.get("starRating"))
    thumbs_up = as_int(user.get("thumbsUpCount"))
    thumbs_down = as_int(user.get("thumbsDownCount"))
    reviewer_language = as_str(user.get("reviewerLanguage"))
    # With translationLanguage set, `text` is the translation and `originalText` what was written.
    translated = original is not None and given is not None
    summary: dict[str, Any] = {
        "package_name": package,
        "review_id": review_id,
        "star_rating": rating,
        "last_modified": modified.isoformat(),
        "reviewer_language": reviewer_language,
        "device": as_str(user.get("device")),
        "device_metadata": dict(as_mapping(user.get("deviceMetadata"))) or None,
        "android_os_version": as_int(user.get("androidOsVersion")),
        "app_version_code": as_int(user.get("appVersionCode")),
        "app_version_name": as_str(user.get("appVersionName")),
        "original_text": split_title(original)[1] if translated and original else None,
        "translation_language": translation_language if translated else None,
        "developer_reply": _developer_reply(developer),
    }
    mention = Mention(
        source=SOURCE,
        external_id=review_id,
        text=text,
        title=title,
        created_at=modified,  # the API gives no creation time: a review's time is its last change
        author=as_str(review.get("authorName")),
        url=review_url(package, review_id),
        engagement=thumbs_up,
        rating=float(rating) if rating is not None and 1 <= rating <= 5 else None,
        language=language_code(translation_language if translated else reviewer_language),
        metrics=metrics(rating=rating, thumbs_up=thumbs_up, thumbs_down=thumbs_down),
        raw={**review, PLAY_KEY: {k: v for k, v in summary.items() if v is not None}},
    )
    return modified.timestamp(), mention


def _developer_reply(comment: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not comment:
        return None
    text = as_str(comment.get("text"))
    if text is None:
        return None
    edited = _timestamp(comment.get("lastModified"))
    return {"text": text, "last_modified": edited.isoformat() if edited else None}


def package_of(target: ReplyTarget) -> str | None:
    """The app a stored review belongs to: from raw["play"], else from its Play URL (?id=...)."""
    package = as_str(as_mapping(as_mapping(target.raw).get(PLAY_KEY)).get("package_name"))
    if package:
        return package
    if target.url:
        values = parse_qs(urlsplit(target.url).query).get("id")
        if values and values[0]:
            return values[0]
    return None
