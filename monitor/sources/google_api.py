"""What Google's REST APIs share: their error envelope, read into Grumble's SourceError tree.

Google answers errors as {"error": {"code", "message", "status", "errors": [{"domain", "reason",
"message"}], "details": [...]}}. Its status code alone misleads in one important case: quota
exhaustion is 403 with reason rateLimitExceeded / quotaExceeded / dailyLimitExceeded (domain
usageLimits) on androidpublisher and YouTube, and 429 RESOURCE_EXHAUSTED elsewhere. Both are
`SourceRateLimited` here, never an auth error: the credentials are fine, the day's allowance is not.

    403/429 with a quota reason  -> SourceRateLimited (Retry-After, else until the quota's window ends)
    401, other 403               -> SourceAuthError (names the setting to fix)
    404, 410                     -> SourceNotFound
    5xx                          -> SourceUnavailable
    other 4xx                    -> SourceResponseError (Google's reason and message quoted)

A quota error whose body is cut short (proxies, logs) is still recognised by its reason's name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from monitor.errors import (
    SourceAuthError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.sources.http import DEFAULT_RETRY_AFTER_S, retry_after_seconds, snippet
from monitor.sources.quota import DailyWindow

QUOTA_REASONS = frozenset(
    {
        "ratelimitexceeded",
        "userratelimitexceeded",
        "quotaexceeded",
        "dailylimitexceeded",
        "rate_limit_exceeded",
        "resource_exhausted",
    }
)
_QUOTA_IN_TEXT = re.compile(
    r"rateLimitExceeded|userRateLimitExceeded|quotaExceeded|dailyLimitExceeded|usageLimits|RESOURCE_EXHAUSTED"
)


@dataclass(frozen=True)
class GoogleError:
    """What an error body says: the HTTP-like code, Google's status word, the reasons, the message."""

    status: str | None
    reasons: tuple[str, ...]
    domains: tuple[str, ...]
    message: str
    readable: bool  # False when the body was not a JSON envelope (cut short, HTML from a proxy)

    @property
    def is_quota(self) -> bool:
        return (
            any(r.lower() in QUOTA_REASONS for r in self.reasons)
            or "usageLimits" in self.domains
            or self.status == "RESOURCE_EXHAUSTED"
        )

    def describe(self) -> str:
        parts = [p for p in (self.status, "/".join(self.reasons) or None) if p]
        head = f"{' '.join(parts)}: " if parts else ""
        return head + self.message


def read_error(response: httpx.Response) -> GoogleError:
    """Google's error envelope, or what can be told from a body that is not one."""
    try:
        data: Any = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, Mapping):
        # The raw body wraps the error in "error"; client libraries print the inner object alone.
        nested = data.get("error")
        inner: Mapping[str, Any] = nested if isinstance(nested, Mapping) else data
        errors = [e for e in inner.get("errors") or () if isinstance(e, Mapping)]
        reasons = tuple(str(e["reason"]) for e in errors if isinstance(e.get("reason"), str))
        domains = tuple(str(e["domain"]) for e in errors if isinstance(e.get("domain"), str))
        message = inner.get("message")
        if not isinstance(message, str) or not message:
            message = next((str(e["message"]) for e in errors if isinstance(e.get("message"), str)), None)
        if message is None and isinstance(data.get("error"), str):  # OAuth-style {"error": "..."}
            message = str(data["error"])
        status = inner.get("status")
        return GoogleError(
            status=status if isinstance(status, str) else None,
            reasons=reasons,
            domains=domains,
            message=snippet(message) if message else "(no message)",
            readable=True,
        )
    text = response.content.decode("utf-8", "replace")
    found = tuple(dict.fromkeys(_QUOTA_IN_TEXT.findall(text)))
    return GoogleError(
        status="RESOURCE_EXHAUSTED" if "RESOURCE_EXHAUSTED" in found else None,
        reasons=tuple(r for r in found if r != "usageLimits"),
        domains=("usageLimits",) if "usageLimits" in found else (),
        message=snippet(text) if text.strip() else "(empty body)",
        readable=False,
    )


def quota_wait(response: httpx.Response, error: GoogleError, now: datetime | None = None) -> float:
    """Seconds until a quota error is worth retrying: Retry-After, else until the quota's window ends
    (Google names it in the message: 'per day' resets at midnight Pacific, 'per minute' in a minute)."""
    wait = retry_after_seconds(response.headers)
    if wait is not None:
        return wait
    now = now or datetime.now(UTC)
    text = error.message.lower()
    if "per day" in text or "daily" in text or "dailylimitexceeded" in " ".join(error.reasons).lower():
        return max((DailyWindow().end(now) - now).total_seconds(), 1.0)
    if "per hour" in text:
        next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return max((next_hour - now).total_seconds(), 1.0)
    return DEFAULT_RETRY_AFTER_S


def check_google_status(source: str, response: httpx.Response, *, auth_hint: str, resource: str) -> None:
    """Raise the SourceError for an unsuccessful Google answer; return for 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return
    error = read_error(response)
    where = f"{response.request.method} {response.request.url}"
    said = error.describe()
    if status in (403, 429) and (error.is_quota or status == 429):
        wait = quota_wait(response, error)
        raise SourceRateLimited(
            source,
            f"HTTP {status}: Google's quota for {resource} is used up ({said}); waiting {wait:g} s. "
            "Collect less often, or ask Google for a higher quota",
            wait,
        )
    if status in (401, 403):
        raise SourceAuthError(source, f"HTTP {status} for {resource} ({where}): {said}. {auth_hint}")
    if status in (404, 410):
        raise SourceNotFound(source, f"HTTP {status}: {resource} does not exist ({where}): {said}")
    if status >= 500:
        raise SourceUnavailable(source, f"HTTP {status} server error on {where}: {said}; will retry later")
    raise SourceResponseError(source, f"HTTP {status} for {resource} ({where}): {said}")
