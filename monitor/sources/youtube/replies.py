"""The Replier side of the YouTube source: a reply is one comments.insert under the thread's top-level
comment, sent with the channel's OAuth access token and charged to the reply quota; an answer that
leaves it unsure is ReplyUnconfirmed, and `find_reply` looks for a reply by our channel with the same
text among the thread's replies (YouTube has no idempotency key) before it is sent again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from monitor.errors import (
    ReplyRejected,
    ReplyUnconfirmed,
    SourceAuthError,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.sources.base import PostedReply, ReplyTarget, TextLength
from monitor.sources.google_api import check_google_status, read_error
from monitor.sources.http import decode_json, expect_list, expect_mapping, perform
from monitor.sources.reply_text import normalized
from monitor.sources.text import as_mapping, as_str, dig, html_to_text
from monitor.sources.youtube.account import YouTubeAccount
from monitor.sources.youtube.api import COST, GONE_REASONS, KEY_REASONS, MAX_PAGE_SIZE, SCOPE, describe_error
from monitor.sources.youtube.comments import watch_url


class Replier(YouTubeAccount):
    def missing_login(self) -> str | None:
        return self.token.missing()

    def measure(self, text: str) -> TextLength:
        return TextLength(len(text), self.max_characters, "characters")

    def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        """comments.insert under the thread of `target`: one request, never retried here."""
        parent = _thread_id(target)
        what = f"the reply to comment {target.external_id}"
        headers = self.token.header()  # first: no units are spent for a reply that cannot be sent
        self.reply_quota.spend(COST["comments.insert"], "comments.insert")
        body = {"snippet": {"parentId": parent, "textOriginal": text}}
        try:
            response = perform(
                self.client,
                self.name,
                "POST",
                "/comments",
                params={"part": "snippet"},
                json=body,
                headers=headers,
            )
        except SourceUnavailable as exc:
            raise ReplyUnconfirmed(self.name, f"{exc.detail}; YouTube may have posted it") from None
        if not 200 <= response.status_code < 300:
            self._reply_refused(response, target, what)
        try:
            comment = expect_mapping(self.name, decode_json(self.name, response), "the posted comment")
        except SourceResponseError as exc:
            raise ReplyUnconfirmed(self.name, f"{what} was answered unreadably: {exc.detail}") from None
        comment_id = as_str(comment.get("id"))
        if comment_id is None:
            raise ReplyUnconfirmed(self.name, f"{what} was answered without a comment id")
        return PostedReply(id=comment_id, url=watch_url(_video_of(target), comment_id))

    def _reply_refused(self, response: httpx.Response, target: ReplyTarget, what: str) -> None:
        error = read_error(response)
        reasons = {r.lower() for r in error.reasons}
        said = describe_error(error)
        status = response.status_code
        if status >= 500 or "processingfailure" in reasons:
            raise ReplyUnconfirmed(
                self.name, f"HTTP {status} from YouTube for {what} ({said}); it may have been posted"
            )
        if error.is_quota and not reasons & KEY_REASONS:
            self._quota_error_wait(response, error)
            raise ReplyRejected(
                self.name, f"YouTube's quota is used up ({said}); try after the reset", "rate_limited"
            )
        if status == 401 or "autherror" in reasons:
            self.token.invalidate()
            raise SourceAuthError(
                self.name,
                f"YouTube refused the access token for {what} ({said}); {self.token.settings_hint()}",
            )
        if "commenttexttoolong" in reasons:
            raise ReplyRejected(self.name, f"YouTube says the reply is too long ({said})", "too_long")
        if reasons & GONE_REASONS or status == 404:
            raise ReplyRejected(
                self.name, f"comment {target.external_id} is gone (deleted or hidden) ({said})", "deleted"
            )
        if "commentsdisabled" in reasons:
            raise ReplyRejected(self.name, f"comments are now disabled on that video ({said})", "locked")
        if status == 403:
            raise ReplyRejected(
                self.name,
                f"YouTube does not let this account reply there ({said}): the refresh token's channel may "
                f"not comment on that video, or the token lacks the {SCOPE} scope",
                "forbidden",
            )
        raise ReplyRejected(self.name, f"YouTube refused {what} (HTTP {status}: {said})")

    def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
        """A reply by our channel with the same text among the thread's replies (comments.list)."""
        me = self._my_channel()
        parent = _thread_id(target)
        wanted = normalized(text)
        token: str | None = None
        for _ in range(self.max_pages):
            params = {
                "part": "snippet",
                "parentId": parent,
                "maxResults": MAX_PAGE_SIZE,
                "textFormat": "plainText",
            }
            if token:
                params["pageToken"] = token
            data = self._authorized_get("comments.list", "/comments", params, f"the replies to {parent}")
            if data is None:
                return None
            body = expect_mapping(self.name, data, "a comment list")
            for comment in expect_list(self.name, body.get("items"), "items"):
                snippet = as_mapping(dig(comment, "snippet"))
                comment_id = as_str(dig(comment, "id"))
                if comment_id is None or as_str(dig(snippet, "authorChannelId", "value")) != me:
                    continue
                said = as_str(snippet.get("textOriginal")) or html_to_text(
                    str(snippet.get("textDisplay") or "")
                )
                if normalized(said) == wanted:
                    return PostedReply(id=comment_id, url=watch_url(_video_of(target), comment_id))
            token = as_str(body.get("nextPageToken"))
            if token is None:
                return None
        return None

    def _my_channel(self) -> str:
        with self._lock:
            if self.channel_id is None:
                data = self._authorized_get(
                    "channels.list", "/channels", {"part": "id", "mine": "true"}, "the token's channel"
                )
                items = expect_list(self.name, as_mapping(data).get("items"), "items")
                channel = as_str(dig(items[0], "id")) if items else None
                if channel is None:
                    raise SourceAuthError(
                        self.name,
                        "the refresh token's account has no YouTube channel, so it cannot reply; consent "
                        f"again with the channel's account ({self.token.settings_hint()})",
                    )
                self.channel_id = channel
            return self.channel_id

    def _authorized_get(self, what: str, path: str, params: Mapping[str, Any], resource: str) -> Any:
        """A read with the OAuth token, charged to the reply quota; None when the thread is gone."""
        self.reply_quota.spend(COST[what], what)
        response = perform(
            self.client, self.name, "GET", path, params=dict(params), headers=self.token.header()
        )
        if response.status_code == 404 or {r.lower() for r in read_error(response).reasons} & GONE_REASONS:
            return None
        if response.status_code == 401:
            self.token.invalidate()
        check_google_status(self.name, response, auth_hint=self.token.settings_hint(), resource=resource)
        return decode_json(self.name, response)


def _thread_id(target: ReplyTarget) -> str:
    """The top-level comment a reply goes under: YouTube threads are one level deep, and a reply's id
    is '<thread id>.<reply id>'."""
    return target.parent_id or target.external_id.split(".", 1)[0]


def _video_of(target: ReplyTarget) -> str | None:
    return as_str(as_mapping(target.raw).get("videoId")) if target.raw else None
