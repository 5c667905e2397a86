"""RSS and Atom feeds (Google Alerts, news, review sites), fetched with httpx and parsed by feedparser.

Fetching through the shared client gives feeds the same timeouts, status handling and User-Agent as
the JSON APIs, plus conditional GETs (ETag / Last-Modified), so an unchanged feed costs a 304.
A feed is one document, not a newest-first listing: entries need not be sorted and may lack dates,
so a feed's cursor is the set of entry ids its last fetch saw, not a timestamp.

Feeds are listings, so pages are `unsearched` (the collector keeps entries naming a keyword), unless
every feed of the watch is a search feed: a Google Alerts feed, or the watch says `search = true`.
One broken feed among several is logged and retried next run without holding the others back; only
when every feed fails does the fetch fail, so the source's health shows it.
"""

from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import feedparser
import httpx

from monitor.errors import SourceError, SourceResponseError
from monitor.mention import Mention, Page, Watch, utcnow
from monitor.sources.base import SourceSettings
from monitor.sources.http import SkipLog, build_client, no_credentials_hint, option_list, send, snippet
from monitor.sources.paging import StreamState, decode_cursor, encode_cursor
from monitor.sources.text import as_str, html_to_text

log = logging.getLogger(__name__)

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
# Enough to recognise every entry of any real feed; a feed longer than this repeats nothing old anyway.
MAX_SEEN = 1000
FEED_ENDINGS = (b"</rss>", b"</feed>", b"</rdf:RDF>", b"</rdf:rdf>")


def is_search_feed(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.netloc.endswith("google.com") and parsed.path.startswith("/alerts/feeds/")


def _unwrap_google_link(link: str) -> str:
    # Google Alerts links go through a redirector; the real article is its `url` parameter.
    parsed = urlparse(link)
    if parsed.netloc.endswith("google.com") and parsed.path == "/url":
        target = parse_qs(parsed.query).get("url")
        if target:
            return target[0]
    return link


def _jsonable(value: Any) -> Any:
    """feedparser's dicts hold time.struct_time and bytes; `raw` must be plain JSON."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items() if not str(k).endswith("_parsed")}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if isinstance(parsed, time.struct_time):
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def parse_entry(entry: Any, fetched_at: datetime, skips: SkipLog) -> Mention | None:
    if not isinstance(entry, Mapping):
        skips.skip("not an entry")
        return None
    link = as_str(entry.get("link"))
    external_id = as_str(entry.get("id")) or link
    title = as_str(entry.get("title"))
    content = entry.get("content")
    body = as_str(entry.get("summary"))
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        body = as_str(content[0].get("value")) or body
    text = html_to_text(body) if body else ""
    if external_id is None:
        skips.skip("without id or link")
        return None
    if not text and not title:
        skips.skip("without title or text")
        return None
    return Mention(
        source=RssSource.name,
        external_id=external_id,
        text=text or html_to_text(title or ""),
        title=html_to_text(title) if title else None,
        created_at=_entry_time(entry) or fetched_at,
        author=as_str(entry.get("author")),
        url=_unwrap_google_link(link) if link else None,
        language=as_str(entry.get("language")),
        raw=_jsonable(entry),
    )


class RssSource:
    name: ClassVar[str] = "rss"

    def __init__(self, settings: SourceSettings, client: httpx.Client) -> None:
        self.settings = settings
        self.client = client

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        options = watch.options_for(self.name)
        feeds = option_list(options, "feeds") or option_list(options, "feed")
        if not feeds:
            raise SourceError(self.name, f"watch {watch.name!r} needs feeds = [...] in [watches.sources.rss]")
        saved = decode_cursor(self.name, cursor)
        states: dict[str, StreamState] = {}
        mentions: list[Mention] = []
        failures: dict[str, SourceError] = {}
        for url in dict.fromkeys(feeds):
            state = saved.get(url, StreamState())
            try:
                got, states[url] = self._feed(url, state)
            except SourceError as exc:
                failures[url] = exc
                states[url] = state
                log.warning("%s: feed %s failed, the others go on: %s", self.name, url, exc.detail)
                continue
            mentions.extend(got)
        if len(failures) == len(states):
            raise next(iter(failures.values()))
        searched = bool(options.get("search")) or (bool(feeds) and all(is_search_feed(f) for f in feeds))
        return Page(
            mentions=mentions,
            next_cursor=encode_cursor(states),
            unsearched=not searched,
            # One broken feed among working ones must still show, or its mentions go missing unseen.
            warnings=tuple(
                f"feed {url} failed ({len(failures)} of {len(states)} feeds): {exc.detail}"
                for url, exc in failures.items()
            ),
        )

    def _feed(self, url: str, state: StreamState) -> tuple[list[Mention], StreamState]:
        headers = {}
        if etag := as_str(state.extra.get("etag")):
            headers["If-None-Match"] = etag
        if modified := as_str(state.extra.get("modified")):
            headers["If-Modified-Since"] = modified
        response = send(
            self.client,
            self.name,
            "GET",
            url,
            headers=headers,
            auth_hint=no_credentials_hint(self.name) + " or the feed URL",
            resource=f"the feed {url}",
        )
        if response.status_code == 304:
            return [], state
        parsed = self._parse(url, response)
        fetched_at = utcnow()
        skips = SkipLog(self.name)
        seen = set(state.extra.get("seen") or ())
        first_run = "seen" not in state.extra
        mentions = [m for m in (parse_entry(e, fetched_at, skips) for e in parsed.entries) if m is not None]
        skips.report(f"the feed {url}")
        fresh = [m for m in mentions if m.external_id not in seen]
        if first_run:
            # The backfill takes the newest entries; the rest are marked seen so they never arrive later.
            fresh.sort(key=lambda m: m.created_at, reverse=True)
            fresh = fresh[: self.settings.max_backfill]
        extra = {
            "seen": list(dict.fromkeys(m.external_id for m in mentions))[:MAX_SEEN],
            "etag": response.headers.get("etag"),
            "modified": response.headers.get("last-modified"),
        }
        return fresh, StreamState(extra={k: v for k, v in extra.items() if v is not None})

    def _parse(self, url: str, response: httpx.Response) -> Any:
        body = response.content
        content_type = response.headers.get("content-type", "(none)")
        parsed = feedparser.parse(body, response_headers={"content-type": content_type})
        problem = parsed.get("bozo_exception")
        if not parsed.get("version") and not parsed.entries:
            raise SourceResponseError(
                self.name,
                f"{url} is not an RSS or Atom feed (content-type {content_type}, {len(body)} bytes"
                f"{f', {problem}' if problem else ''}); body starts: {snippet(body)!r}",
            )
        if problem is not None and not body.rstrip().endswith(FEED_ENDINGS):
            # feedparser salvages what it can from a cut-off document; its last entry may be cut too.
            raise SourceResponseError(
                self.name,
                f"the feed {url} is truncated or malformed ({problem}); body ends: {snippet(body[-120:])!r}",
            )
        if problem is not None:
            log.info(
                "%s: %s is not well-formed (%s); using the entries feedparser recovered",
                self.name,
                url,
                problem,
            )
        return parsed


def build(settings: SourceSettings) -> RssSource:
    # Feed URLs are absolute; base_url, when set, resolves relative ones (a proxy, a test server).
    client = build_client(settings, settings.base_url or "", accept=FEED_ACCEPT, follow_redirects=True)
    return RssSource(settings, client)
