"""Reddit through PRAW (script-app credentials): keyword search, or a subreddit's newest posts and comments.

Modes, per watch (`[watches.sources.reddit]`):
    mode = "search" (default)  Reddit search for any keyword, newest first, across all of Reddit or the
                               watch's `subreddits`.
    mode = "new"               the newest submissions and comments of `subreddits` (listings, so the page is
                               `unsearched` and the collector keeps those naming a keyword); `listings`
                               picks "submissions", "comments" or both (default).

Requests go through `praw.Reddit.request`, the real client with its OAuth, retries and Reddit's own
rate-limit headers, and the listings are read as JSON rather than as PRAW models: models fetch missing
attributes lazily (an extra request per item) and hide the raw payload the store keeps. On top of
PRAW, a token bucket keeps each client id under Reddit's 100 requests a minute: in the process, or, for
a process with a database (`build(settings, shared_rate_limits(engine))`), one bucket for every
process on that database.

Replies (`reply`) go through PRAW's own `Comment.reply` / `Submission.reply` (POST /api/comment with the
thing_id), which needs a user login (username and password of the script app's account). prawcore
retries a request after a timeout or a 5xx, which for a POST could publish a reply twice: while a
reply is sent, the requestor lets the comment POST out again only after an answer that says it was not
posted (a 401 before a token refresh, a RATELIMIT); otherwise the reply is "unconfirmed" and the next
attempt looks for it among the account's recent comments (`find_reply`) before posting again.

Modules: `source` (RedditSource), `client` (the PRAW client and its requestor), `limits` (the token
bucket), `things` (Listings as Mentions), `errors` (PRAW's exceptions as SourceErrors).
"""

from __future__ import annotations

from monitor.sources.base import SourceSettings
from monitor.sources.reddit.client import build_reddit
from monitor.sources.reddit.errors import translate
from monitor.sources.reddit.limits import client_key, rate_limit_for
from monitor.sources.reddit.source import RedditSource
from monitor.sources.reddit.things import parse_thing, thing_url, things
from monitor.token_bucket import RateLimits, local_rate_limits


def build(settings: SourceSettings, rate_limits: RateLimits = local_rate_limits) -> RedditSource:
    return RedditSource(settings, rate_limit=rate_limit_for(settings, rate_limits))


__all__ = [
    "RedditSource",
    "build",
    "build_reddit",
    "client_key",
    "parse_thing",
    "rate_limit_for",
    "thing_url",
    "things",
    "translate",
]
