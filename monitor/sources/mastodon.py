"""Mastodon: a hashtag timeline on any instance (no token needed), or status search with a token.

Which one a watch uses: its `hashtags` option gives timelines; without it, an instance token gives full
status search for each keyword, and no token falls back to the keywords as hashtags. A hashtag timeline
is a listing, not a search for the watch's keywords, so its pages are marked `unsearched`.
Both list newest first and page back with `max_id`; statuses are ordered by their snowflake ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from monitor.mention import Mention, Page, Watch
from monitor.sources.base import SourceSettings
from monitor.sources.http import (
    SkipLog,
    build_client,
    credential_hint,
    expect_list,
    expect_mapping,
    get_json,
    option_int,
    option_list,
)
from monitor.sources.paging import Batch, StreamState, fetch_streams, search_terms
from monitor.sources.text import as_int, as_mapping, as_str, dig, html_to_text, metrics, parse_time, total

DEFAULT_BASE_URL = "https://mastodon.social"
MAX_LIMIT = 40


def _hashtag(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lstrip("#"))


class MastodonSource:
    name: ClassVar[str] = "mastodon"

    def __init__(self, settings: SourceSettings, client: httpx.Client) -> None:
        self.settings = settings
        self.client = client
        self.token = str(settings.options.get("access_token") or "") or None
        self.page_size = option_int(settings.options, "page_size", MAX_LIMIT, maximum=MAX_LIMIT)
        self.max_pages = option_int(settings.options, "max_pages", 20, maximum=1000)
        self.auth_hint = credential_hint(
            self.name,
            "access_token",
            extra=f"create one under Preferences > Development on {client.base_url} with the read scope",
        )

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        options = watch.options_for(self.name)
        hashtags = [_hashtag(t) for t in option_list(options, "hashtags")]
        hashtags = [t for t in hashtags if t]
        terms = search_terms(watch.keywords, watch.required)
        if not hashtags and not self.token:
            hashtags = [t for t in (_hashtag(term) for term in terms) if t]
        streams: dict[str, tuple[str, list[str]]]
        if hashtags:
            # One request for all tags: the tag timeline takes the others as any[].
            streams = {"tags:" + ",".join(hashtags): ("tags", hashtags)}
        else:
            streams = {f"search:{term}": ("search", [term]) for term in terms}
        return fetch_streams(
            self.name,
            cursor,
            streams,
            self._page,
            max_backfill=self.settings.max_backfill,
            max_pages=self.max_pages,
            unsearched=bool(hashtags),
        )

    def _page(self, spec: tuple[str, list[str]], state: StreamState) -> Batch:
        kind, words = spec
        limit = min(self.page_size, state.room(self.settings.max_backfill))
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if state.pending and state.token:
            params.append(("max_id", str(state.token)))
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if kind == "tags":
            path = f"/api/v1/timelines/tag/{quote(words[0])}"
            params.extend(("any[]", tag) for tag in words[1:])
            resource = f"the #{words[0]} timeline"
        else:
            path = "/api/v2/search"
            params.extend([("q", words[0]), ("type", "statuses"), ("resolve", "false")])
            resource = f"the status search for {words[0]!r}"
        data = get_json(
            self.client,
            self.name,
            path,
            params=params,
            headers=headers,
            auth_hint=self.auth_hint,
            resource=resource,
        )
        if kind == "search":
            data = expect_mapping(self.name, data, "a search answer").get("statuses")
        statuses = expect_list(self.name, data, "statuses")
        skips = SkipLog(self.name)
        items = [item for item in (parse_status(s, skips) for s in statuses) if item is not None]
        skips.report(resource)
        # Page on the raw list, not the parsed one: a skipped status still moves the window.
        ids = [as_str(s.get("id")) for s in statuses if isinstance(s, Mapping)]
        oldest = min((i for i in ids if i), key=_id_order, default=None)
        next_token = oldest if oldest is not None and len(statuses) >= limit else None
        return Batch(items=items, next_token=next_token)


def _id_order(status_id: str) -> tuple[int, str]:
    # Mastodon ids are numeric strings; other servers (Pleroma) use sortable strings.
    return (int(status_id), "") if status_id.isdigit() else (0, status_id)


def parse_status(status: Any, skips: SkipLog) -> tuple[float, Mention] | None:
    if not isinstance(status, Mapping):
        skips.skip("not an object")
        return None
    if status.get("reblog"):
        # A boost repeats someone else's status; the original is the mention.
        skips.skip("boosts")
        return None
    status_id = as_str(status.get("id"))
    created = parse_time(status.get("created_at"))
    content = status.get("content")
    if status_id is None:
        skips.skip("without id")
        return None
    if created is None:
        skips.skip("without created_at")
        return None
    if not isinstance(content, str):
        skips.skip("without content")
        return None
    account = as_mapping(status.get("account"))
    favourites = as_int(status.get("favourites_count"))
    reblogs = as_int(status.get("reblogs_count"))
    replies = as_int(status.get("replies_count"))
    mention = Mention(
        source=MastodonSource.name,
        external_id=status_id,
        text=html_to_text(content),
        title=as_str(status.get("spoiler_text")),
        created_at=created,
        author=as_str(dig(account, "acct")) or as_str(dig(account, "username")),
        url=as_str(status.get("url")) or as_str(status.get("uri")),
        author_reach=as_int(dig(account, "followers_count")),
        engagement=total(favourites, reblogs, replies),
        parent_id=as_str(status.get("in_reply_to_id")),
        language=as_str(status.get("language")),
        metrics=metrics(favourites=favourites, reblogs=reblogs, replies=replies),
        raw=dict(status),
    )
    return created.timestamp(), mention


def build(settings: SourceSettings) -> MastodonSource:
    return MastodonSource(settings, build_client(settings, DEFAULT_BASE_URL))
