"""Google Business Profile reviews (the reviews of shops, restaurants and offices on Google Search and
Maps), answered as the business, through the My Business API v4.

    GET    /v4/accounts/{a}/locations/{l}/reviews?pageSize=50&orderBy=updateTime desc&pageToken=...
    GET    /v4/accounts/{a}/locations/{l}/reviews/{reviewId}
    PUT    /v4/accounts/{a}/locations/{l}/reviews/{reviewId}/reply   {"comment": ...}  (creates or replaces)
    DELETE /v4/accounts/{a}/locations/{l}/reviews/{reviewId}/reply

Built from Google's reference pages (no example bodies are published; see
../shared/data/payloads/google_business_profile). What it relies on:

- The API acts as a user who manages the location: OAuth with a refresh token (client_id,
  client_secret, refresh_token; scope business.manage), exchanged by google_auth.py.
- Reviews are asked for newest-updated first (orderBy updateTime desc); a review whose author changes
  its stars or text comes back with a newer updateTime and arrives again as an edit of the same review,
  because "seen" is judged per review at its updateTime (as for Google Play).
- Star ratings are words, "ONE".."FIVE". A review may have stars and no text at all: it is kept with
  empty text (the stars decide its verdict). Reviews in another language come as
  "(Translated by Google) ...\\n\\n(Original)\\n..."; both halves are kept.
- A reply is at most 4096 bytes, and one per review: PUT replaces it, so a retry cannot add a second.
- Every review of the location is about the business: pages are not keyword-filtered.
- Quota exhaustion is 429 RESOURCE_EXHAUSTED (google_api.py: SourceRateLimited). New Cloud projects get
  0 requests a minute until Google approves their access request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from monitor.errors import (
    ReplyRejected,
    ReplyUnconfirmed,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceResponseError,
)
from monitor.mention import Mention, Page, Watch
from monitor.sources.base import PostedReply, ReplyTarget, SourceSettings, TextLength
from monitor.sources.google_api import check_google_status
from monitor.sources.google_auth import GoogleToken
from monitor.sources.http import (
    SkipLog,
    build_client,
    decode_json,
    expect_list,
    expect_mapping,
    option_int,
    option_list,
    send,
)
from monitor.sources.paging import Batch, StreamState, fetch_streams
from monitor.sources.reply_errors import reply_request
from monitor.sources.reply_text import normalized
from monitor.sources.text import as_mapping, as_str, metrics, parse_time

DEFAULT_BASE_URL = "https://mybusiness.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/business.manage"
MAX_PAGE_SIZE = 50  # the reference: "The maximum pageSize is 50"
REPLY_LIMIT_BYTES = 4096  # ReviewReply.comment: "maximum length 4096 bytes"
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
# Where the owner reads and answers a location's reviews (the API gives no public link per review).
LOCATION_URL = "https://business.google.com/reviews/l/{location_id}"
BUSINESS_KEY = "business"

_LOCATION = re.compile(r"accounts/([^/\s]+)/locations/([^/\s]+)")
_REVIEW_NAME = re.compile(r"(accounts/[^/\s]+/locations/[^/\s]+)/reviews/([^/\s]+)")
_TRANSLATED = re.compile(
    r"^\(Translated by Google\)\s*(?P<translated>.*?)\s*\(Original\)\s*(?P<original>.*)$", re.S
)


def split_translation(comment: str) -> tuple[str, str | None]:
    """(text to show, original) from "(Translated by Google) ... (Original) ..."; (comment, None) else."""
    match = _TRANSLATED.match(comment.strip())
    if match is None:
        return comment.strip(), None
    return match.group("translated").strip(), match.group("original").strip() or None


def parse_review(review: Any, location: str, skips: SkipLog) -> tuple[float, Mention] | None:
    """One Review as (updateTime as epoch seconds, Mention); None (and a skip counted) if unusable."""
    if not isinstance(review, Mapping):
        skips.skip("not an object")
        return None
    review_id = as_str(review.get("reviewId"))
    if review_id is None:
        name_match = _REVIEW_NAME.fullmatch(as_str(review.get("name")) or "")
        review_id = name_match.group(2) if name_match else None
    if review_id is None:
        skips.skip("without reviewId")
        return None
    updated = parse_time(review.get("updateTime")) or parse_time(review.get("createTime"))
    if updated is None:
        skips.skip("without updateTime")
        return None
    stars = STARS.get(str(review.get("starRating") or ""))
    comment = as_str(review.get("comment"))
    if comment is None and stars is None:
        skips.skip("without comment or starRating")
        return None
    text, original = split_translation(comment or "")
    reviewer = as_mapping(review.get("reviewer"))
    anonymous = reviewer.get("isAnonymous") is True
    reply = as_mapping(review.get("reviewReply"))
    location_id = _LOCATION.fullmatch(location)
    summary: dict[str, Any] = {
        "location": location,
        "review_id": review_id,
        "star_rating": stars,
        "update_time": updated.isoformat(),
        "create_time": (parse_time(review.get("createTime")) or updated).isoformat(),
        "original_text": original,
        "anonymous": anonymous,
        "owner_reply": (
            {"comment": reply.get("comment"), "update_time": reply.get("updateTime")}
            if as_str(reply.get("comment"))
            else None
        ),
    }
    mention = Mention(
        source=GoogleBusinessSource.name,
        external_id=review_id,
        text=text,
        created_at=parse_time(review.get("createTime")) or updated,
        author=None if anonymous else as_str(reviewer.get("displayName")),
        url=LOCATION_URL.format(location_id=location_id.group(2) if location_id else ""),
        rating=float(stars) if stars is not None else None,
        metrics=metrics(rating=stars),
        raw={**review, BUSINESS_KEY: {k: v for k, v in summary.items() if v is not None}},
    )
    return updated.timestamp(), mention


def location_names(source: str, watch: Watch) -> list[str]:
    options = watch.options_for(source)
    names = option_list(options, "locations") or option_list(options, "location")
    if not names:
        raise SourceError(
            source,
            f'watch {watch.name!r} needs locations = ["accounts/ACCOUNT_ID/locations/LOCATION_ID"] in '
            "[watches.sources.google_business] (the ids are in the Business Profile API's accounts and "
            "locations lists)",
        )
    for name in names:
        if not _LOCATION.fullmatch(name):
            raise SourceError(
                source,
                f"watch {watch.name!r}: location {name!r} is not of the form "
                '"accounts/ACCOUNT_ID/locations/LOCATION_ID"',
            )
    return names


class GoogleBusinessSource:
    name: ClassVar[str] = "google_business"

    def __init__(
        self, settings: SourceSettings, client: httpx.Client, *, token: GoogleToken | None = None
    ) -> None:
        self.settings = settings
        self.client = client
        options = settings.options
        self.token = token or GoogleToken.from_options(
            self.name, options, SCOPE, client=client, grants=("refresh_token",)
        )
        self.page_size = option_int(options, "page_size", MAX_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
        self.max_pages = option_int(options, "max_pages", 20, maximum=1000)
        self.auth_hint = (
            f"{self.token.settings_hint()}; the Google account must manage the location, the refresh token "
            f"must have the {SCOPE} scope, and the Cloud project needs approved Business Profile API access"
        )

    # --- reading ------------------------------------------------------------------------------------

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        streams = {name: name for name in location_names(self.name, watch)}
        return fetch_streams(
            self.name,
            cursor,
            streams,
            self._page,
            max_backfill=self.settings.max_backfill,
            max_pages=self.max_pages,
        )

    def _send(self, method: str, path: str, resource: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), **self.token.header()}
        try:
            return send(
                self.client,
                self.name,
                method,
                path,
                headers=headers,
                auth_hint=self.auth_hint,
                resource=resource,
                check=check_google_status,
                **kwargs,
            )
        except SourceAuthError:
            self.token.invalidate()
            raise

    def _page(self, location: str, state: StreamState) -> Batch:
        params: dict[str, str | int] = {
            "pageSize": min(self.page_size, state.room(self.settings.max_backfill)),
            "orderBy": "updateTime desc",
        }
        if state.pending and state.token:
            params["pageToken"] = str(state.token)
        resource = f"the reviews of {location}"
        response = self._send("GET", f"/v4/{_quoted(location)}/reviews", resource, params=params)
        data = expect_mapping(self.name, decode_json(self.name, response), "a reviews.list answer")
        reviews = expect_list(self.name, data.get("reviews"), "reviews")
        skips = SkipLog(self.name)
        items = [item for item in (parse_review(r, location, skips) for r in reviews) if item is not None]
        skips.report(resource)
        next_token = as_str(data.get("nextPageToken")) if reviews else None
        # As for Google Play: judged per review at its updateTime, so an edit is new again.
        fresh = [(key, m) for key, m in items if not state.is_known(key, m.external_id)]
        if items and not fresh:
            return Batch(items=items, next_token=None)
        return Batch(items=fresh, next_token=next_token)

    # --- replying -----------------------------------------------------------------------------------

    def missing_login(self) -> str | None:
        return self.token.missing()

    def measure(self, text: str) -> TextLength:
        return TextLength(
            len(text.encode("utf-8")), REPLY_LIMIT_BYTES, "bytes", "UTF-8: accented letters count 2, emoji 4"
        )

    def _review_name(self, target: ReplyTarget) -> str:
        """accounts/../locations/../reviews/..: from the stored review's name, else its location."""
        raw = as_mapping(target.raw)
        match = _REVIEW_NAME.fullmatch(as_str(raw.get("name")) or "")
        if match is not None:
            return match.group(0)
        location = as_str(as_mapping(raw.get(BUSINESS_KEY)).get("location"))
        if location is None or not _LOCATION.fullmatch(location):
            raise ReplyRejected(
                self.name,
                f"cannot tell which location review {target.external_id} belongs to (its stored data has no "
                "review name); answer it in Business Profile",
                "rejected",
            )
        return f"{location}/reviews/{target.external_id}"

    def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        """PUT the review's reply: creates it, or replaces the one there (never a second reply)."""
        length = self.measure(text)
        if not length.ok:
            raise ReplyRejected(
                self.name,
                f"the reply is {length.describe()}; Business Profile takes at most {REPLY_LIMIT_BYTES} bytes",
                "too_long",
            )
        name = self._review_name(target)
        what = f"the reply to review {target.external_id}"
        with reply_request(
            self.name,
            what,
            server="Business Profile",
            landed="Google may have saved it",
            gone=f"review {target.external_id} no longer exists (or the location is not verified)",
        ):
            response = self._send("PUT", f"/v4/{_quoted(name)}/reply", what, json={"comment": text})
        try:
            saved = expect_mapping(self.name, decode_json(self.name, response), "a ReviewReply")
        except SourceResponseError as exc:
            raise ReplyUnconfirmed(self.name, f"{what} was answered unreadably: {exc.detail}") from None
        if as_str(saved.get("comment")) is None:
            raise ReplyUnconfirmed(self.name, f"{what} was answered without the reply it saved")
        return PostedReply(id=f"{name}/reply", url=target.url)

    def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
        """The review's reply, if it says `text` (compared as normalized text)."""
        name = self._review_name(target)
        try:
            response = self._send("GET", f"/v4/{_quoted(name)}", f"review {target.external_id}")
        except SourceNotFound:
            return None
        review = expect_mapping(self.name, decode_json(self.name, response), "a review")
        said = as_str(as_mapping(review.get("reviewReply")).get("comment"))
        if said is not None and normalized(said) == normalized(text):
            return PostedReply(id=f"{name}/reply", url=target.url)
        return None

    def delete_reply(self, target: ReplyTarget) -> None:
        """Remove the business's reply to the review (a reply posted by mistake)."""
        name = self._review_name(target)
        self._send("DELETE", f"/v4/{_quoted(name)}/reply", f"the reply to review {target.external_id}")


def _quoted(name: str) -> str:
    """A resource name in a path: each segment escaped, the slashes kept."""
    return "/".join(quote(part, safe="") for part in name.split("/"))


def build(settings: SourceSettings) -> GoogleBusinessSource:
    return GoogleBusinessSource(settings, build_client(settings, DEFAULT_BASE_URL))
