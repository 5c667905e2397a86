"""Mastodon: a hashtag timeline on any instance (no token needed), or status search with a token.

Which one a watch uses: its `hashtags` option gives timelines; without it, an instance token gives full
status search for each keyword, and no token falls back to the keywords as hashtags. A hashtag timeline
is a listing, not a search for the watch's keywords, so its pages are marked `unsearched`.
Both list newest first and page back with `max_id`; statuses are ordered by their snowflake ids.

Replies: POST /api/v1/statuses with `in_reply_to_id` and an `Idempotency-Key` header (Mastodon returns
the status it already made for a key it has seen, instead of a second one). Sending one needs an
access_token with the write:statuses scope; `find_reply` reads the thread (context) for a reply by our
account with the same text. Lengths are the instance's own (GET /api/v2/instance), counted as Mastodon
counts: graphemes, every link as 23 characters, a remote @user@domain as @user.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from monitor.errors import (
    ReplyUnconfirmed,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceResponseError,
)
from monitor.mention import Mention, Page, Watch
from monitor.sources.base import PostedReply, ReplyTarget, SourceSettings, TextLength
from monitor.sources.http import (
    SkipLog,
    build_client,
    credential_hint,
    decode_json,
    expect_list,
    expect_mapping,
    get_json,
    option_int,
    option_list,
    send,
)
from monitor.sources.paging import Batch, StreamState, fetch_streams, search_terms
from monitor.sources.reply_errors import reply_request
from monitor.sources.reply_text import graphemes, normalized
from monitor.sources.text import as_int, as_mapping, as_str, dig, html_to_text, metrics, parse_time, total

DEFAULT_BASE_URL = "https://mastodon.social"
MAX_LIMIT = 40
DEFAULT_MAX_CHARACTERS = 500
DEFAULT_URL_CHARACTERS = 23
# Close to the URL pattern Mastodon's length validator uses; a link counts as 23 whatever its length.
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_REMOTE_MENTION = re.compile(r"(?<![\w/])@(\w+(?:[.-]+\w+)*)@[\w.-]+\w", re.UNICODE)

log = logging.getLogger(__name__)


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
        self.reply_hint = credential_hint(
            self.name,
            "access_token",
            extra="replying needs a token with the write:statuses and read scopes, from Preferences > "
            f"Development on {client.base_url}; it may have been revoked or expired",
        )
        self.reply_visibility = str(settings.options.get("reply_visibility") or "public")
        self._limits: tuple[int, int] | None = None
        self._account_id: str | None = None
        self._reply_lock = threading.Lock()

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

    # --- replies ------------------------------------------------------------------------------------

    def missing_login(self) -> str | None:
        return None if self.token else f"an access_token. {self.reply_hint}"

    def _write_headers(self) -> dict[str, str]:
        if not self.token:
            raise SourceAuthError(self.name, f"access_token is not set. {self.reply_hint}")
        return {"Authorization": f"Bearer {self.token}"}

    def limits(self) -> tuple[int, int]:
        """(max_characters, characters per link): `max_characters` in [sources.mastodon], else what the
        instance says, else Mastodon's defaults. Asked once per source."""
        with self._reply_lock:
            if self._limits is None:
                self._limits = self._instance_limits()
            return self._limits

    def _instance_limits(self) -> tuple[int, int]:
        configured = as_int(self.settings.options.get("max_characters"))
        for path in ("/api/v2/instance", "/api/v1/instance"):
            try:
                data = expect_mapping(
                    self.name,
                    get_json(
                        self.client, self.name, path, auth_hint=self.auth_hint, resource="instance info"
                    ),
                    "instance info",
                )
            except SourceError as exc:
                log.info("mastodon: %s (trying the next way to learn the length limit)", exc)
                continue
            statuses = as_mapping(dig(data, "configuration", "statuses"))
            max_chars = as_int(statuses.get("max_characters")) or as_int(data.get("max_toot_chars"))
            per_url = as_int(statuses.get("characters_reserved_per_url")) or DEFAULT_URL_CHARACTERS
            if configured or max_chars:
                return configured or max_chars or DEFAULT_MAX_CHARACTERS, per_url
        if configured is None:
            log.warning(
                "mastodon: the instance did not say its length limit; assuming %d", DEFAULT_MAX_CHARACTERS
            )
        return configured or DEFAULT_MAX_CHARACTERS, DEFAULT_URL_CHARACTERS

    def measure(self, text: str) -> TextLength:
        maximum, per_url = self.limits()
        countable = _URL.sub("x" * per_url, text)
        countable = _REMOTE_MENTION.sub(lambda m: "@" + m.group(1), countable)
        return TextLength(graphemes(countable), maximum, "characters", f"links count as {per_url}")

    def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        """POST /api/v1/statuses in reply to the status, with the reply's key as Idempotency-Key."""
        headers = {**self._write_headers(), "Idempotency-Key": idempotency_key}
        what = f"the reply to status {target.external_id}"
        body = {"status": text, "in_reply_to_id": target.external_id, "visibility": self.reply_visibility}
        with reply_request(
            self.name,
            what,
            server="the instance",
            landed="the instance may have posted it",
            gone=f"status {target.external_id} is gone (deleted, or hidden from this account)",
        ):
            response = send(
                self.client,
                self.name,
                "POST",
                "/api/v1/statuses",
                json=body,
                headers=headers,
                auth_hint=self.reply_hint,
                resource=what,
            )
        try:
            status = expect_mapping(self.name, decode_json(self.name, response), "the posted status")
        except SourceResponseError as exc:
            raise ReplyUnconfirmed(self.name, f"{what} was answered unreadably: {exc.detail}") from None
        status_id = as_str(status.get("id"))
        if status_id is None:
            raise ReplyUnconfirmed(self.name, f"{what} was answered without a status id")
        return PostedReply(id=status_id, url=as_str(status.get("url")) or as_str(status.get("uri")))

    def _me(self) -> str:
        if self._account_id is None:
            data = expect_mapping(
                self.name,
                get_json(
                    self.client,
                    self.name,
                    "/api/v1/accounts/verify_credentials",
                    headers=self._write_headers(),
                    auth_hint=self.reply_hint,
                    resource="the token's account",
                ),
                "an account",
            )
            account_id = as_str(data.get("id"))
            if account_id is None:
                raise SourceResponseError(self.name, "verify_credentials answered without an account id")
            self._account_id = account_id
        return self._account_id

    def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
        """A reply by our account to the status, with the same text, in the status's thread."""
        me = self._me()
        try:
            data = get_json(
                self.client,
                self.name,
                f"/api/v1/statuses/{quote(target.external_id)}/context",
                headers=self._write_headers(),
                auth_hint=self.reply_hint,
                resource=f"the thread of status {target.external_id}",
            )
        except SourceNotFound:
            return None
        descendants = expect_list(
            self.name, expect_mapping(self.name, data, "a context").get("descendants"), "descendants"
        )
        wanted = normalized(text)
        for status in descendants:
            if not isinstance(status, Mapping):
                continue
            status_id = as_str(status.get("id"))
            if (
                status_id is None
                or as_str(status.get("in_reply_to_id")) != target.external_id
                or as_str(dig(status, "account", "id")) != me
            ):
                continue
            if self._same_text(status_id, status, text, wanted):
                return PostedReply(id=status_id, url=as_str(status.get("url")) or as_str(status.get("uri")))
        return None

    def _same_text(self, status_id: str, status: Mapping[str, Any], text: str, wanted: str) -> bool:
        """Whether our status says `text`. The HTML shows "@user" for the "@user@domain" we wrote, so
        compare with what the server stores (statuses/:id/source, Mastodon 3.5+), or, from a server
        without it, with the mentions written as it renders them."""
        if normalized(html_to_text(str(status.get("content") or ""))) == wanted:
            return True
        try:
            source = get_json(
                self.client,
                self.name,
                f"/api/v1/statuses/{quote(status_id)}/source",
                headers=self._write_headers(),
                auth_hint=self.reply_hint,
                resource=f"the text of status {status_id}",
            )
        except (SourceNotFound, SourceResponseError):
            rendered = _MENTION_WITH_DOMAIN.sub(r"@\1", text)
            return normalized(html_to_text(str(status.get("content") or ""))) == normalized(rendered)
        stored = as_str(source.get("text")) if isinstance(source, Mapping) else None
        return stored is not None and normalized(stored) == wanted


_MENTION_WITH_DOMAIN = re.compile(r"(?<![\w@])@([\w.]+)@[\w.-]+\.[a-z]{2,}", re.IGNORECASE)


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
