"""Hacker News through the public Algolia API: newest stories and comments matching each keyword.

`search_by_date` lists newest first. A pass pins its upper bound (`created_at_i<=` the newest item of
its first page) so stories posted while it pages back do not shift the page numbers under it, and asks
only for items at or after the mark, so a later run costs one small request when nothing is new.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from monitor.mention import Mention, Page, Watch
from monitor.sources.base import SourceSettings
from monitor.sources.http import (
    SkipLog,
    build_client,
    expect_list,
    expect_mapping,
    get_json,
    no_credentials_hint,
    option_int,
)
from monitor.sources.paging import Batch, StreamState, fetch_streams, search_terms
from monitor.sources.text import as_int, as_str, html_to_text, metrics, parse_time, total

DEFAULT_BASE_URL = "https://hn.algolia.com"
SEARCH_PATH = "/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
DEFAULT_TAGS = "(story,comment)"
MAX_HITS_PER_PAGE = 1000


class HackerNewsSource:
    name: ClassVar[str] = "hackernews"

    def __init__(self, settings: SourceSettings, client: httpx.Client) -> None:
        self.settings = settings
        self.client = client
        self.page_size = option_int(settings.options, "page_size", 100, maximum=MAX_HITS_PER_PAGE)
        self.max_pages = option_int(settings.options, "max_pages", 20, maximum=1000)

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        options = watch.options_for(self.name)
        tags = str(options.get("tags") or DEFAULT_TAGS)
        streams = {f"{tags} {term}": (term, tags) for term in search_terms(watch.keywords, watch.required)}
        return fetch_streams(
            self.name,
            cursor,
            streams,
            self._page,
            max_backfill=self.settings.max_backfill,
            max_pages=self.max_pages,
        )

    def _page(self, spec: tuple[str, str], state: StreamState) -> Batch:
        term, tags = spec
        token: Mapping[str, Any] = state.token if state.pending and isinstance(state.token, Mapping) else {}
        page = as_int(token.get("page")) or 0
        pin = as_int(token.get("until"))
        # Page numbers only line up while the page size stays the same for the whole pass.
        per_page = as_int(token.get("per_page")) or min(self.page_size, self.settings.max_backfill)
        filters = []
        if state.mark is not None:
            filters.append(f"created_at_i>={int(state.mark)}")
        if pin is not None:
            filters.append(f"created_at_i<={pin}")
        params: dict[str, str | int] = {
            "query": term,
            "tags": tags,
            "hitsPerPage": per_page,
            "page": page,
        }
        if filters:
            params["numericFilters"] = ",".join(filters)
        data = expect_mapping(
            self.name,
            get_json(
                self.client,
                self.name,
                SEARCH_PATH,
                params=params,
                auth_hint=no_credentials_hint(self.name),
                resource=f"the search for {term!r}",
            ),
            "a search_by_date answer",
        )
        hits = expect_list(self.name, data.get("hits"), "hits")
        skips = SkipLog(self.name)
        items = [item for item in (parse_hit(hit, skips) for hit in hits) if item is not None]
        skips.report(f"the search for {term!r}")
        next_token = None
        nb_pages = as_int(data.get("nbPages"))
        if hits and nb_pages is not None and page + 1 < nb_pages:
            if pin is None:
                stamps = [as_int(h.get("created_at_i")) for h in hits if isinstance(h, Mapping)]
                pin = max((s for s in stamps if s is not None), default=None)
            next_token = {"page": page + 1, "until": pin, "per_page": per_page}
        return Batch(items=items, next_token=next_token)


def parse_hit(hit: Any, skips: SkipLog) -> tuple[float, Mention] | None:
    """One Algolia hit (story, comment, poll...) as a Mention keyed by its creation time."""
    if not isinstance(hit, Mapping):
        skips.skip("not an object")
        return None
    object_id = as_str(hit.get("objectID"))
    created = parse_time(hit.get("created_at_i")) or parse_time(hit.get("created_at"))
    tags = hit.get("_tags")
    tags = tags if isinstance(tags, list) else []
    is_comment = "comment" in tags or hit.get("comment_text") is not None
    title = None if is_comment else as_str(hit.get("title"))
    body = as_str(hit.get("comment_text")) or as_str(hit.get("story_text"))
    text = html_to_text(body) if body else (title or "")
    if object_id is None:
        skips.skip("without objectID")
        return None
    if created is None:
        skips.skip("without created_at")
        return None
    if not text:
        skips.skip("without text or title")
        return None
    points = as_int(hit.get("points"))
    comments = as_int(hit.get("num_comments"))
    mention = Mention(
        source=HackerNewsSource.name,
        external_id=object_id,
        text=text,
        title=title,
        created_at=created,
        author=as_str(hit.get("author")),
        url=ITEM_URL.format(object_id),
        # A story's points are how far it has travelled; a comment's are not public in the API.
        author_reach=None if is_comment else points,
        engagement=total(points, comments),
        parent_id=as_str(hit.get("parent_id")) if is_comment else None,
        metrics=metrics(points=points, num_comments=comments),
        raw=dict(hit),
    )
    return created.timestamp(), mention


def build(settings: SourceSettings) -> HackerNewsSource:
    return HackerNewsSource(settings, build_client(settings, DEFAULT_BASE_URL))
