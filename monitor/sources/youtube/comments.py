"""YouTube's comment threads as Mentions: `parse_thread` for a thread and the replies embedded in it,
`parse_comment` for one comment, and `watch_url`, the page where a person sees a comment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.mention import Mention
from monitor.sources.http import SkipLog
from monitor.sources.text import as_int, as_mapping, as_str, dig, html_to_text, metrics, parse_time, total
from monitor.sources.youtube.api import NAME, WATCH_URL


def watch_url(video_id: str | None, comment_id: str, channel_id: str | None = None) -> str | None:
    """Where a person sees the comment: the video's page with the comment highlighted (lc=)."""
    if video_id:
        return f"{WATCH_URL}?v={video_id}&lc={comment_id}"
    if channel_id:
        return f"https://www.youtube.com/channel/{channel_id}/discussion?lc={comment_id}"
    return None


def parse_thread(thread: Any, skips: SkipLog) -> list[tuple[float, Mention]]:
    """A thread's top-level comment and the replies embedded with it, as (updatedAt, Mention) pairs."""
    if not isinstance(thread, Mapping):
        skips.skip("not an object")
        return []
    snippet = as_mapping(thread.get("snippet"))
    top = snippet.get("topLevelComment")
    video_id = as_str(snippet.get("videoId"))
    channel_id = as_str(snippet.get("channelId"))
    replies = as_int(snippet.get("totalReplyCount"))
    found: list[tuple[float, Mention]] = []
    parsed = parse_comment(top, skips, video_id=video_id, channel_id=channel_id, reply_count=replies)
    if parsed is not None:
        found.append(parsed)
    embedded = dig(thread, "replies", "comments") or []
    if not isinstance(embedded, list):
        skips.skip("threads whose replies are not a list")
        embedded = []
    for reply in embedded:
        parsed = parse_comment(reply, skips, video_id=video_id, channel_id=channel_id)
        if parsed is not None:
            found.append(parsed)
    return found


def parse_comment(
    comment: Any,
    skips: SkipLog,
    *,
    video_id: str | None = None,
    channel_id: str | None = None,
    reply_count: int | None = None,
) -> tuple[float, Mention] | None:
    if not isinstance(comment, Mapping):
        skips.skip("comments that are not objects")
        return None
    snippet = as_mapping(comment.get("snippet"))
    comment_id = as_str(comment.get("id"))
    published = parse_time(snippet.get("publishedAt"))
    updated = parse_time(snippet.get("updatedAt")) or published
    # textOriginal is what the author typed; YouTube sends it only to some viewers, textDisplay always.
    text = as_str(snippet.get("textOriginal")) or html_to_text(str(snippet.get("textDisplay") or ""))
    if comment_id is None:
        skips.skip("comments without id")
        return None
    if published is None or updated is None:
        skips.skip("comments without publishedAt")
        return None
    if not text.strip():
        skips.skip("comments without text")
        return None
    video_id = as_str(snippet.get("videoId")) or video_id
    likes = as_int(snippet.get("likeCount"))
    raw = dict(comment)
    raw.update({k: v for k, v in (("videoId", video_id), ("totalReplyCount", reply_count)) if v is not None})
    mention = Mention(
        source=NAME,
        external_id=comment_id,
        text=text,
        created_at=published,
        author=as_str(snippet.get("authorDisplayName")),
        url=watch_url(video_id, comment_id, as_str(snippet.get("channelId")) or channel_id),
        engagement=total(likes, reply_count),
        parent_id=as_str(snippet.get("parentId")),
        metrics=metrics(likes=likes, replies=reply_count),
        raw=raw,
    )
    return updated.timestamp(), mention
