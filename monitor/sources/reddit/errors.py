"""PRAW's and prawcore's exceptions as the SourceErrors the collector understands: a table, first match
wins (like httpx's map of httpcore exceptions), and the words for a reply Reddit refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from praw.exceptions import PRAWException, RedditAPIException
from prawcore import exceptions as core

from monitor.errors import (
    ReplyRejected,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.sources.http import DEFAULT_RETRY_AFTER_S, retry_after_seconds, sent_secrets, snippet
from monitor.sources.reddit.client import AUTH_HINT, exchange


def _response_detail(response: Any) -> str:
    if response is None:
        return ""
    content_type = response.headers.get("content-type", "(none)")
    body = snippet(response.content or b"", secrets=sent_secrets(getattr(response, "request", None)))
    body = body or "(empty body)"
    return f" (HTTP {response.status_code}, content-type {content_type}): {body}"


# Each translation gets (source, the exception, what was asked for) and returns the SourceError.
Translation = Callable[[str, Any, str], SourceError]


def _rate_limited(source: str, exc: core.ResponseException, what: str) -> SourceError:
    wait = retry_after_seconds(exc.response.headers) if exc.response is not None else None
    if wait is None:
        return SourceRateLimited(source, f"rate limited on {what}, no Retry-After", DEFAULT_RETRY_AFTER_S)
    return SourceRateLimited(source, f"rate limited on {what}; retry after {wait:g} s", wait)


def _refused(source: str, exc: core.PrawcoreException, what: str) -> SourceError:
    return SourceAuthError(
        source,
        f"access refused to {what} ({type(exc).__name__}: {exc}); the subreddit may be private or "
        f"banned, or the credentials wrong. {AUTH_HINT}",
    )


def _key_error(source: str, exc: KeyError, what: str) -> SourceError:
    # prawcore maps a 401 through the WWW-Authenticate header; without one it raises KeyError(401).
    if exc.args and exc.args[0] == 401:
        return SourceAuthError(source, f"HTTP 401 unauthorized for {what}. {AUTH_HINT}")
    return _malformed(source, exc, what)


def _not_found(source: str, exc: core.PrawcoreException, what: str) -> SourceError:
    # Reddit answers an unknown subreddit with a redirect to its search page.
    return SourceNotFound(source, f"{what} does not exist or is banned ({type(exc).__name__}: {exc})")


def _server_error(source: str, exc: core.ServerError, what: str) -> SourceError:
    return SourceUnavailable(source, f"Reddit server error on {what}: {exc}; will retry later")


def _request_failed(source: str, exc: core.RequestException, what: str) -> SourceError:
    original = exc.original_exception
    kind = "timed out" if isinstance(original, requests.Timeout) else "failed"
    return SourceUnavailable(source, f"request for {what} {kind}: {type(original).__name__}: {original}")


def _not_json(source: str, exc: core.BadJSON, what: str) -> SourceError:
    response = exc.response
    content_type = response.headers.get("content-type", "") if response is not None else ""
    body = (response.content or b"") if response is not None else b""
    kind = "HTML" if "html" in content_type or body.lstrip()[:1] == b"<" else "malformed or truncated JSON"
    return SourceResponseError(
        source, f"{kind} where JSON was expected from {what}{_response_detail(response)}"
    )


def _unexpected_answer(source: str, exc: core.ResponseException, what: str) -> SourceError:
    response = exc.response
    status = response.status_code if response is not None else 0
    # Raised for the token request itself: wrong client id or secret come back as 401.
    if status in (400, 401, 403):
        return SourceAuthError(
            source, f"the OAuth token request was refused{_response_detail(response)}. {AUTH_HINT}"
        )
    if status == 429 and response is not None:
        asked = "the OAuth token request" if "access_token" in str(getattr(response, "url", "")) else what
        return _rate_limited(source, exc, asked)
    if status >= 500:
        return SourceUnavailable(source, f"Reddit server error on {what}{_response_detail(response)}")
    return SourceResponseError(source, f"unexpected answer for {what}{_response_detail(response)}")


def _api_rejected(source: str, exc: RedditAPIException, what: str) -> SourceError:
    return SourceResponseError(source, f"Reddit rejected the request for {what}: {snippet(str(exc))}")


def _praw_failed(source: str, exc: Exception, what: str) -> SourceError:
    return SourceResponseError(source, f"PRAW failed on {what}: {type(exc).__name__}: {exc}")


def _malformed(source: str, exc: Exception, what: str) -> SourceError:
    # ValueError (a token answer that is not JSON), KeyError/TypeError (one that lacks its fields).
    last = getattr(exchange, "response", None)
    return SourceResponseError(
        source,
        f"malformed answer for {what}: {type(exc).__name__}: {snippet(str(exc))}{_response_detail(last)}",
    )


# In order, first match wins: subclasses before their bases (prawcore's ResponseException is the base
# of the HTTP status exceptions, PRAWException of RedditAPIException).
TRANSLATIONS: tuple[tuple[type[Exception] | tuple[type[Exception], ...], Translation], ...] = (
    (core.TooManyRequests, _rate_limited),
    ((core.Forbidden, core.InsufficientScope, core.InvalidToken, core.OAuthException), _refused),
    (KeyError, _key_error),
    ((core.NotFound, core.Redirect, core.UnavailableForLegalReasons), _not_found),
    (core.ServerError, _server_error),
    (core.RequestException, _request_failed),
    (core.BadJSON, _not_json),
    (core.ResponseException, _unexpected_answer),
    (RedditAPIException, _api_rejected),
    ((PRAWException, core.PrawcoreException), _praw_failed),
)


def translate(source: str, exc: Exception, what: str) -> SourceError:
    """The SourceError for one of PRAW's or prawcore's exceptions, or for a malformed answer."""
    for kinds, translation in TRANSLATIONS:
        if isinstance(exc, kinds):
            return translation(source, exc, what)
    return _malformed(source, exc, what)


# Reddit's error types for a reply it refused, as the one word the case shows.
REJECTIONS = {
    "THREAD_LOCKED": "locked",
    "TOO_OLD": "archived",
    "DELETED_COMMENT": "deleted",
    "DELETED_LINK": "deleted",
    "TOO_LONG": "too_long",
    "RATELIMIT": "rate_limited",
}


def rejected(source: str, exc: RedditAPIException, what: str) -> ReplyRejected:
    items = list(getattr(exc, "items", []) or [])
    kinds = [str(getattr(item, "error_type", "")) for item in items]
    reason = next((REJECTIONS[k] for k in kinds if k in REJECTIONS), "rejected")
    said = "; ".join(
        f"{getattr(item, 'error_type', '')}: {getattr(item, 'message', '')}" for item in items
    ) or snippet(str(exc))
    return ReplyRejected(source, f"Reddit refused {what}: {said}", reason)
