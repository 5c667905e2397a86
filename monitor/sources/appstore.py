"""App Store reviews: Apple's public customer-reviews feed (JSON), per app id and country, newest first.

Every review of the watched app is about the brand, so pages are not keyword-filtered (`unsearched` is
False) — a one-star "crashes on login" never names the app. Apple wraps every value as {"label": ...},
gives at most 10 pages, sends an unknown app as a feed with no entries, keeps a `next` link even on the
last page, and leaves out a review's date in some feeds: reviews are ordered by their id, which grows
over time, and a review without a date takes the feed's own `updated` time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from monitor.errors import SourceError
from monitor.mention import Mention, Page, Watch, utcnow
from monitor.sources.base import SourceSettings
from monitor.sources.http import (
    SkipLog,
    build_client,
    expect_mapping,
    get_json,
    no_credentials_hint,
    option_int,
    option_list,
)
from monitor.sources.paging import Batch, StreamState, fetch_streams
from monitor.sources.text import as_int, as_mapping, as_str, dig, metrics, parse_time

DEFAULT_BASE_URL = "https://itunes.apple.com"
FEED_PATH = "/{country}/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json"
APP_URL = "https://apps.apple.com/{country}/app/id{app_id}?see-all=reviews"
LAST_PAGE = 10  # Apple serves no more than ten pages of a feed


def _label(data: Any, *keys: str) -> str | None:
    return as_str(dig(data, *keys, "label"))


class AppStoreSource:
    name: ClassVar[str] = "appstore"

    def __init__(self, settings: SourceSettings, client: httpx.Client) -> None:
        self.settings = settings
        self.client = client
        self.max_pages = option_int(settings.options, "max_pages", LAST_PAGE, maximum=LAST_PAGE)

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        options = watch.options_for(self.name)
        app_ids = option_list(options, "app_ids") or option_list(options, "app_id")
        countries = [c.lower() for c in option_list(options, "countries") or option_list(options, "country")]
        if not app_ids:
            raise SourceError(
                self.name, f"watch {watch.name!r} needs app_ids = [...] in [watches.sources.appstore]"
            )
        streams = {f"{app}/{country}": (app, country) for app in app_ids for country in countries or ["us"]}
        return fetch_streams(
            self.name,
            cursor,
            streams,
            self._page,
            max_backfill=self.settings.max_backfill,
            max_pages=self.max_pages,
        )

    def _page(self, spec: tuple[str, str], state: StreamState) -> Batch:
        app_id, country = spec
        page = as_int(state.token) if state.pending else None
        page = page or 1
        data = expect_mapping(
            self.name,
            get_json(
                self.client,
                self.name,
                FEED_PATH.format(country=country, page=page, app_id=app_id),
                auth_hint=no_credentials_hint(self.name),
                resource=f"the reviews of app {app_id} in {country.upper()}",
            ),
            "a customer-reviews feed",
        )
        feed = as_mapping(data.get("feed"))
        entries = feed.get("entry", [])
        if isinstance(entries, Mapping):  # a feed with one review sends it bare, not in a list
            entries = [entries]
        if not isinstance(entries, list):
            entries = []
        fallback_time = parse_time(_label(feed, "updated")) or utcnow()
        skips = SkipLog(self.name)
        items = []
        for entry in entries:
            parsed = parse_review(entry, app_id, country, fallback_time, skips)
            if parsed is not None:
                items.append(parsed)
        skips.report(f"page {page} of app {app_id} in {country.upper()}")
        next_token = page + 1 if entries and page < LAST_PAGE else None
        return Batch(items=items, next_token=next_token)


def parse_review(
    entry: Any, app_id: str, country: str, fallback_time: datetime, skips: SkipLog
) -> tuple[float, Mention] | None:
    if not isinstance(entry, Mapping):
        skips.skip("not an object")
        return None
    review_id = _label(entry, "id")
    rating = as_int(_label(entry, "im:rating"))
    text = _label(entry, "content")
    if review_id is None:
        skips.skip("without id")
        return None
    if rating is None and entry.get("im:name") is not None:
        # Older feeds open with the app's own description; it is not a review.
        return None
    if text is None:
        skips.skip("without content")
        return None
    created = parse_time(_label(entry, "updated")) or fallback_time
    votes = as_int(_label(entry, "im:voteCount"))
    vote_sum = as_int(_label(entry, "im:voteSum"))
    mention = Mention(
        source=AppStoreSource.name,
        external_id=review_id,
        text=text,
        title=_label(entry, "title"),
        created_at=created,
        author=_label(entry, "author", "name"),
        url=APP_URL.format(country=country, app_id=app_id),
        # "Was this review helpful?" votes are all the engagement a review shows.
        engagement=votes,
        rating=float(rating) if rating is not None and 1 <= rating <= 5 else None,
        metrics=metrics(votes=votes, helpful=vote_sum, rating=rating),
        raw=dict(entry),
    )
    key = float(review_id) if review_id.isdigit() else created.timestamp()
    return key, mention


def build(settings: SourceSettings) -> AppStoreSource:
    return AppStoreSource(settings, build_client(settings, DEFAULT_BASE_URL))
