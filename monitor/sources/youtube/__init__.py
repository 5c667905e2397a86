"""YouTube comments (Data API v3): threads on chosen videos, on a channel's videos, or on videos found by
the watch's keywords; replies to them with the channel's OAuth credentials. Every call is planned
against the day's quota before it is sent.

Reading needs an API key (`api_key`, GRUMBLE_YOUTUBE_API_KEY), sent as the X-Goog-Api-Key header so it
never appears in a URL, a log or an error. Per watch (`[watches.sources.youtube]`, else the source's own
options): `video_ids` (commentThreads.list videoId), `channel_ids` (allThreadsRelatedToChannelId: every
video of the channel), and `search_videos = true` to look for videos with the watch's keywords
(search.list, type=video, newest first) and follow their comments too; a watch with neither ids
searches by default. Each video or channel is a stream of its own (sources/paging.py), read newest
first with nextPageToken; the replies YouTube embeds in a thread (part=replies, free) come along as
mentions whose parent is the thread, and with `all_replies = true` a thread with more replies than
were embedded has its first 100 listed too (comments.list parentId, 1 unit a thread each run). A
mention's sort key is its `updatedAt`, so a comment edited since the last run comes through again on
the pages a run reads (the store updates it in place); YouTube offers no way to list edits, so an edit
deep in an old thread is not seen.

Quota (sources/quota.py): a key has `daily_quota` units a day (10,000 unless Google granted more),
counted from midnight Pacific; search.list costs 100, commentThreads.list, comments.list and
channels.list 1, comments.insert 50. Collection spends at most `quota_share` of the day (0.8 by
default), leaving the rest for replies, which may use the whole quota. A search is repeated every
`search_every_hours` (12), and only when its 100 units leave enough for this run's thread pages; the
videos it found are kept in the cursor for `search_keep_days`. When the share is spent the run stops:
a run that could fetch nothing is rate limited until the reset (the collector waits for it), a run cut
short says so in its warnings. YouTube's own quotaExceeded (another app on the same project) is
recorded in the count, so Grumble stops too.

Replies: comments.insert (POST /comments?part=snippet, parentId = the thread's top-level comment) with
an access token from `client_id`, `client_secret` and `refresh_token` (scope youtube.force-ssl; see
google_auth.py). YouTube has no idempotency key: `find_reply` lists the thread's replies
(comments.list parentId) for one by our channel (channels.list mine=true, or `channel_id`) with the same
text. Replies are limited to `max_characters` (10,000, YouTube's comment limit).

Modules: `source` (YouTubeSource), `account` (options, credentials and the quota accounts), `collect`
(searches and comment listings), `replies` (comments.insert and find_reply), `planning` (quota status
and plan), `comments` (threads as Mentions), `cursor` (the state between runs), `options` (what a watch
asks for), `api` (endpoint, costs and error reasons).
"""

from __future__ import annotations

from monitor.sources.base import SourceSettings
from monitor.sources.http import build_client
from monitor.sources.quota import MemoryQuotaLedger, QuotaLedger
from monitor.sources.youtube.api import (
    COST,
    DEFAULT_BASE_URL,
    DEFAULT_DAILY_QUOTA,
    DEFAULT_QUOTA_SHARE,
    MAX_CHARACTERS,
    MAX_PAGE_SIZE,
    MAX_SEARCH_RESULTS,
    SCOPE,
    WATCH_URL,
)
from monitor.sources.youtube.comments import parse_comment, parse_thread, watch_url
from monitor.sources.youtube.options import Stream
from monitor.sources.youtube.source import YouTubeSource


def build(settings: SourceSettings, ledger: QuotaLedger | None = None) -> YouTubeSource:
    """The source; `ledger` keeps the quota counts (the database's, from registry.build_source), else
    this process's own."""
    return YouTubeSource(settings, build_client(settings, DEFAULT_BASE_URL), ledger or _PROCESS_LEDGER)


_PROCESS_LEDGER = MemoryQuotaLedger()

__all__ = [
    "COST",
    "DEFAULT_BASE_URL",
    "DEFAULT_DAILY_QUOTA",
    "DEFAULT_QUOTA_SHARE",
    "MAX_CHARACTERS",
    "MAX_PAGE_SIZE",
    "MAX_SEARCH_RESULTS",
    "SCOPE",
    "WATCH_URL",
    "Stream",
    "YouTubeSource",
    "build",
    "parse_comment",
    "parse_thread",
    "watch_url",
]
