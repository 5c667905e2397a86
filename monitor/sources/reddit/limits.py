"""Grumble's own limit on top of PRAW: Reddit allows 100 requests a minute per OAuth client."""

from __future__ import annotations

import hashlib

from monitor.sources.base import SourceSettings
from monitor.sources.text import as_str
from monitor.token_bucket import Bucket, RateLimit, RateLimits, local_rate_limits

REQUESTS_PER_MINUTE = 100
BUCKET = Bucket(REQUESTS_PER_MINUTE, max_wait_s=5.0)


def client_key(client_id: str) -> str:
    """The bucket's name for one OAuth client. A hash: client ids are not secret, but a shared table
    has no need to list which apps this installation uses."""
    return "reddit:" + hashlib.sha256(client_id.encode()).hexdigest()[:32]


def rate_limit_for(settings: SourceSettings, rate_limits: RateLimits = local_rate_limits) -> RateLimit:
    """Reddit counts requests per OAuth client, so every source built with one client id shares one
    bucket: this process's, or with `rate_limits` from the database, every process's."""
    client_id = as_str(settings.options.get("client_id")) or "unset"
    return rate_limits(client_key(client_id), BUCKET)
