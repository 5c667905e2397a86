"""Posting a grant to Google's OAuth token endpoint and reading its answer into an `IssuedToken`.

The answer decides the error a source raises: a network failure or timeout, or HTTP 5xx, is
`SourceUnavailable`; 429 is `SourceRateLimited` (after its Retry-After); any other 4xx means the
credentials do not work, a `SourceAuthError` carrying the grant's advice; a 2xx without JSON or without
an access_token is `SourceResponseError`. The endpoint may echo what it was sent, so everything quoted
from it has the grant's secrets masked first. A token is kept until `EXPIRY_MARGIN_S` (at most half its
lifetime) before Google says it expires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from monitor.errors import SourceAuthError, SourceRateLimited, SourceResponseError, SourceUnavailable
from monitor.sources.google_credentials import MASK
from monitor.sources.http import DEFAULT_RETRY_AFTER_S, retry_after_seconds, snippet

DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
# Renew this long before expiry, so a request never leaves with a token that dies on the way.
EXPIRY_MARGIN_S = 60.0


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_at: float


def post_grant(
    client: httpx.Client, source: str, token_url: str, form: Mapping[str, str], secrets: list[str]
) -> httpx.Response:
    """POST the grant's form to the token endpoint; a failure to get any answer is SourceUnavailable."""
    try:
        return client.post(token_url, data=dict(form), headers={"Accept": "application/json"})
    except httpx.TimeoutException as exc:
        raise SourceUnavailable(
            source,
            f"timed out asking {token_url} for an access token ({type(exc).__name__}); "
            f"raise [sources.{source}] timeout_s if it is just slow",
        ) from None
    except httpx.HTTPError as exc:
        raise SourceUnavailable(
            source,
            f"cannot reach {token_url} for an access token: {type(exc).__name__}: {mask(str(exc), secrets)}",
        ) from None


def read_token(
    response: httpx.Response, source: str, token_url: str, now: float, fix: str, secrets: list[str]
) -> IssuedToken:
    """The token in the endpoint's answer, with when to renew it; an error answer raises (see above)."""
    status = response.status_code
    said = mask(token_error(response), secrets)
    where = f"the token endpoint {token_url}"
    if status == 429:
        wait = retry_after_seconds(response.headers)
        wait = DEFAULT_RETRY_AFTER_S if wait is None else wait
        raise SourceRateLimited(source, f"HTTP 429 from {where}; retry after {wait:g} s", wait)
    if status >= 500:
        raise SourceUnavailable(source, f"HTTP {status} from {where}: {said}; will retry later")
    if status >= 400:
        # 400 invalid_grant / invalid_client and 401 are all "these credentials do not work".
        raise SourceAuthError(source, f"{where} refused the credentials (HTTP {status}: {said}); {fix}")
    if not 200 <= status < 300:
        raise SourceResponseError(source, f"HTTP {status} from {where}: {said}")
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise SourceResponseError(
            source,
            f"{where} answered with something other than JSON "
            f"(content-type {response.headers.get('content-type', '(none)')}): {said}",
        ) from None
    token = data.get("access_token") if isinstance(data, Mapping) else None
    if not isinstance(token, str) or not token:
        raise SourceResponseError(source, f"{where} answered without an access_token: {said}")
    lifetime = lifetime_seconds(data.get("expires_in"))
    margin = min(EXPIRY_MARGIN_S, lifetime / 2)
    return IssuedToken(token, now + lifetime - margin)


def lifetime_seconds(value: Any) -> float:
    """expires_in as seconds; Google always sends it, so a missing one is taken as a short hour."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 3000.0
    return max(seconds, 1.0)


def token_error(response: httpx.Response) -> str:
    """OAuth's error and error_description, else the first bytes of the body (secret fields masked)."""
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, Mapping):
        parts = [str(data[key]) for key in ("error", "error_description") if isinstance(data.get(key), str)]
        if parts:
            return ": ".join(parts)
        error = data.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return str(error["message"])
    return snippet(response.content) if response.content else "(empty body)"


def mask(text: str, secrets: list[str]) -> str:
    """`text` with every secret we sent, and any long run of one, replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
            # A PEM key may come back re-wrapped or escaped: mask each of its lines as well.
            for line in secret.splitlines():
                if len(line) >= 16:
                    text = text.replace(line, MASK)
    return text
