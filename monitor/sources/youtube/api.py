"""What Grumble knows of the YouTube Data API v3 itself: its address and OAuth scope, the units each call
costs, the page limits, and the error reasons it gives, grouped by what Grumble does about them, with
`describe_error` to quote an error in Google's words."""

from __future__ import annotations

from monitor.sources.google_api import GoogleError
from monitor.sources.text import html_to_text

NAME = "youtube"
DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
DEFAULT_DAILY_QUOTA = 10_000
DEFAULT_QUOTA_SHARE = 0.8
MAX_CHARACTERS = 10_000
MAX_PAGE_SIZE = 100  # commentThreads.list and comments.list maxResults
MAX_SEARCH_RESULTS = 50
WATCH_URL = "https://www.youtube.com/watch"

# Units per call (https://developers.google.com/youtube/v3/determine_quota_cost).
COST = {
    "search.list": 100,
    "commentThreads.list": 1,
    "comments.list": 1,
    "channels.list": 1,
    "comments.insert": 50,
}

# Error reasons YouTube gives, grouped by what Grumble does about them.
KEY_REASONS = {"keyinvalid", "keyexpired", "accessnotconfigured", "iprefererblocked", "api_key_invalid"}
GONE_REASONS = {
    "videonotfound",
    "channelnotfound",
    "commentthreadnotfound",
    "commentnotfound",
    "parentcommentnotfound",
}
DAILY_QUOTA_REASONS = {"quotaexceeded", "dailylimitexceeded"}


def describe_error(error: GoogleError) -> str:
    """Google's reason and message, its HTML links reduced to their words."""
    return html_to_text(error.describe())
