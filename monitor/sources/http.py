"""What every httpx-based source shares: one way to build the client, one way to turn failures into errors.

Every failure a server or the network can produce becomes one `SourceError` here, with a message that
says what happened and what to change, so the sources themselves only deal with good answers:

    timeout, connection refused, DNS   -> SourceUnavailable
    401, 403                           -> SourceAuthError (names the credential to fix)
    404, 410                           -> SourceNotFound
    429                                -> SourceRateLimited (Retry-After, else a rate-limit reset, else 60 s)
    5xx                                -> SourceUnavailable
    other 4xx, 3xx, HTML, bad JSON     -> SourceResponseError (quotes content-type and the first bytes)
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import httpx

from monitor.errors import (
    SourceAuthError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.sources.base import USER_AGENT, SourceSettings
from monitor.sources.text import as_int, parse_time

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER_S = 60.0
SNIPPET_BYTES = 200
JSON_ACCEPT = "application/json"


def build_client(
    settings: SourceSettings,
    default_base_url: str,
    *,
    accept: str = JSON_ACCEPT,
    follow_redirects: bool = False,
) -> httpx.Client:
    """A client with Grumble's User-Agent, the operator's timeout, and base_url (a proxy or a test server)."""
    return httpx.Client(
        base_url=base_url(settings, default_base_url),
        timeout=settings.timeout_s,
        headers={"User-Agent": USER_AGENT, "Accept": accept},
        follow_redirects=follow_redirects,
    )


def base_url(settings: SourceSettings, default: str) -> str:
    return (settings.base_url or default).rstrip("/")


# A body quoted in an error is stored (last_error) and shown: values under these names are not.
_SECRET_FIELD = re.compile(
    r"""(["']?[\w-]*(?:token|secret|password|jwt|api_?key)[\w-]*["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,&}]+)""",
    re.IGNORECASE,
)


# An Authorization value quoted back ("Authorization: Basic Y2xp...", "Bearer eyJ...").
_AUTH_VALUE = re.compile(r"\b(Basic|Bearer|Token)(\s+)[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)
# Form, JSON or query fields whose values are credentials, by name (YouTube's API key is plain `key`).
_SECRET_NAME = re.compile(
    r"^(key|client_id|assertion|code)$|token|secret|password|jwt|api_?key|passwd", re.IGNORECASE
)
MIN_MASKED = 4  # shorter values ("1", "abc") would mask ordinary words


def sent_secrets(request: Any) -> tuple[str, ...]:
    """The credentials a request carried (its Authorization header, secret-named query and form fields,
    a Basic pair's id and secret), so that an answer echoing any of them can be masked. Works on an
    httpx request and on a requests one (PRAW's)."""
    if request is None:
        return ()
    found: list[str] = []
    headers = getattr(request, "headers", None) or {}
    authorization = str(headers.get("authorization") or headers.get("Authorization") or "")
    scheme, _, value = authorization.partition(" ")
    if value:
        found.append(value.strip())
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(value.strip(), validate=True).decode("utf-8", "replace")
            except ValueError:
                pair = ""
            found.extend(part for part in pair.split(":", 1) if part)
    body = getattr(request, "body", None)
    if body is None:
        try:
            body = request.content
        except Exception:  # an httpx streaming request that was never read: it has no form to echo
            body = b""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    pairs = parse_qsl(str(body or ""), keep_blank_values=False)
    pairs += parse_qsl(urlsplit(str(getattr(request, "url", ""))).query, keep_blank_values=False)
    found.extend(v for k, v in pairs if _SECRET_NAME.search(k))
    return tuple(sorted({v for v in found if len(v) >= MIN_MASKED}, key=len, reverse=True))


def masked(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with every credential in it masked: secret-named fields, Authorization values, and the
    exact values in `secrets` (what we sent: see sent_secrets)."""
    for secret in secrets:
        text = text.replace(secret, "***")
    text = _SECRET_FIELD.sub(r"\1***", text)
    return _AUTH_VALUE.sub(r"\1\2***", text)


def request_line(request: httpx.Request) -> str:
    """ "GET https://host/path?query" for a message, with credentials in the query (an API key) masked."""
    return masked(f"{request.method} {request.url}", sent_secrets(request))


def snippet(data: bytes | str, limit: int = SNIPPET_BYTES, secrets: tuple[str, ...] = ()) -> str:
    """A response body for an error message: one line, cut to `limit`, credentials masked."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = masked(" ".join(text.split()), secrets)
    return text[:limit] + ("..." if len(text) > limit else "")


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date), else from a rate-limit reset header.

    Mastodon sends X-RateLimit-Reset as an ISO time and Bluesky sends RateLimit-Reset as epoch seconds;
    both say when the window reopens, which is what Retry-After would have said.
    """
    now = now or datetime.now(UTC)
    value = headers.get("retry-after")
    if value is not None:
        value = value.strip()
        seconds = _float(value)
        if seconds is not None:
            return max(seconds, 0.0)
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return max((moment - now).total_seconds(), 0.0)
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        reset = headers.get(name)
        if reset is None:
            continue
        number = _float(reset)
        if number is not None:
            # Epoch seconds are large; small numbers are "seconds from now" (Reddit's style).
            return max(number - now.timestamp(), 0.0) if number > 1e9 else max(number, 0.0)
        moment = parse_time(reset)
        if moment is not None:
            return max((moment - now).total_seconds(), 0.0)
    return None


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _server_message(response: httpx.Response) -> str:
    """What the server said about the error, short: a JSON error field, or the first bytes of the body;
    anything we sent as a credential is masked where the answer echoes it."""
    secrets = sent_secrets(response.request)
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        parts = [
            str(data[key])
            for key in ("error", "message", "error_description", "reason", "explanation")
            if isinstance(data.get(key), str | int) and data.get(key) != ""
        ]
        if parts:
            return masked(": ".join(dict.fromkeys(parts)), secrets)
    return snippet(response.content, secrets=secrets) if response.content else "(empty body)"


def check_status(source: str, response: httpx.Response, *, auth_hint: str, resource: str) -> None:
    """Raise the SourceError for an unsuccessful response; return for 2xx (and 304, a cache hit)."""
    status = response.status_code
    if 200 <= status < 300 or status == 304:
        return
    said = _server_message(response)
    where = request_line(response.request)
    if status in (401, 403):
        raise SourceAuthError(source, f"HTTP {status} for {resource} ({where}): {said}. {auth_hint}")
    if status in (404, 410):
        raise SourceNotFound(source, f"HTTP {status}: {resource} does not exist ({where}): {said}")
    if status == 429:
        wait = retry_after_seconds(response.headers)
        if wait is None:
            raise SourceRateLimited(
                source,
                f"HTTP 429 rate limited on {where}, no Retry-After; waiting {DEFAULT_RETRY_AFTER_S:g} s",
                DEFAULT_RETRY_AFTER_S,
            )
        raise SourceRateLimited(source, f"HTTP 429 rate limited on {where}; retry after {wait:g} s", wait)
    if status >= 500:
        raise SourceUnavailable(source, f"HTTP {status} server error on {where}: {said}; will retry later")
    if 300 <= status < 400:
        # APIs answer at one address: a redirect is a moved base URL, a proxy's login page, or http->https.
        location = response.headers.get("location")
        points = (
            f"it points to {masked(location, sent_secrets(response.request))}" if location else "no Location"
        )
        raise SourceResponseError(
            source,
            f"HTTP {status} redirect for {resource} ({where}); {points}. Grumble does not follow redirects "
            f"from an API: if that is the API's new address, set [sources.{source}] base_url to it",
        )
    raise SourceResponseError(source, f"HTTP {status} for {resource} ({where}): {said}")


class StatusCheck(Protocol):
    """What turns an unsuccessful answer into its SourceError (check_status, or an API's own)."""

    def __call__(self, source: str, response: httpx.Response, *, auth_hint: str, resource: str) -> None: ...


def send(
    client: httpx.Client,
    source: str,
    method: str,
    url: str,
    *,
    auth_hint: str,
    resource: str,
    check: StatusCheck | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Perform one request; every failure comes out as a SourceError (see the module docstring).
    `check` reads an API whose error answers say more than check_status can (Google's envelope)."""
    response = perform(client, source, method, url, **kwargs)
    (check or check_status)(source, response, auth_hint=auth_hint, resource=resource)
    return response


def perform(client: httpx.Client, source: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request with network failures as SourceErrors and the status left to the caller, for APIs
    whose error bodies say more than check_status can read (App Store Connect's `errors` list)."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise SourceUnavailable(
            source,
            f"timed out after {client.timeout.read}s on {method} {_full_url(client, url)} "
            f"({type(exc).__name__}); raise [sources.{source}] timeout_s if the server is just slow",
        ) from None
    except httpx.TransportError as exc:
        raise SourceUnavailable(
            source, f"cannot reach {_full_url(client, url)}: {type(exc).__name__}: {exc}"
        ) from None
    except httpx.HTTPError as exc:
        raise SourceResponseError(source, f"{method} {_full_url(client, url)} failed: {exc}") from None
    return response


def _full_url(client: httpx.Client, url: str) -> str:
    return url if "://" in url else f"{str(client.base_url).rstrip('/')}/{url.lstrip('/')}"


def decode_json(source: str, response: httpx.Response) -> Any:
    """The JSON body; HTML error pages, empty, truncated or malformed bodies become SourceResponseError.

    The body is tried as JSON whatever the content-type says: Apple serves its JSON feeds as
    text/javascript, while a proxy's HTML error page may arrive as 200 text/html.
    """
    content_type = response.headers.get("content-type", "(none)")
    body = response.content
    where = request_line(response.request)
    if not body.strip():
        raise SourceResponseError(source, f"empty body where JSON was expected from {where}")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        looks_html = "html" in content_type.lower() or body.lstrip()[:1] == b"<"
        kind = "HTML" if looks_html else "malformed or truncated JSON"
        raise SourceResponseError(
            source,
            f"{kind} where JSON was expected from {where} (content-type {content_type}, {len(body)} bytes, "
            f"{exc.__class__.__name__}: {exc}); body starts: "
            f"{snippet(body, secrets=sent_secrets(response.request))!r}",
        ) from None


def get_json(
    client: httpx.Client,
    source: str,
    url: str,
    *,
    auth_hint: str,
    resource: str,
    **kwargs: Any,
) -> Any:
    response = send(client, source, "GET", url, auth_hint=auth_hint, resource=resource, **kwargs)
    return decode_json(source, response)


def expect_mapping(source: str, data: Any, what: str) -> Mapping[str, Any]:
    """The top level an API promises; anything else means we are not talking to that API."""
    if not isinstance(data, Mapping):
        raise SourceResponseError(
            source,
            f"expected a JSON object for {what}, got {type(data).__name__}: {snippet(json.dumps(data))!r}",
        )
    return data


def expect_list(source: str, data: Any, what: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise SourceResponseError(
            source,
            f"expected a JSON array for {what}, got {type(data).__name__}: {snippet(json.dumps(data))!r}",
        )
    return data


class SkipLog:
    """Counts items a source could not use (missing id, text or date) and says so once per page."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.reasons: dict[str, int] = {}

    def skip(self, reason: str) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    @property
    def count(self) -> int:
        return sum(self.reasons.values())

    def report(self, where: str) -> None:
        if self.reasons:
            detail = ", ".join(f"{n} {reason}" for reason, n in sorted(self.reasons.items()))
            log.warning("%s: skipped %d unusable item(s) in %s: %s", self.source, self.count, where, detail)
            self.reasons = {}


def credential_hint(source: str, *keys: str, extra: str = "") -> str:
    """'set GRUMBLE_X_KEY or [sources.x] key' for each credential, so the message names the fix."""
    names = " and ".join(f"GRUMBLE_{source.upper()}_{key.upper()}" for key in keys)
    table = ", ".join(keys)
    hint = f"Check the credentials: set {names} (or {table} in [sources.{source}] of grumble.toml)"
    return f"{hint}; {extra}" if extra else hint


def no_credentials_hint(source: str) -> str:
    """For public APIs: a 401/403 comes from a proxy or a block, not from a missing key."""
    return (
        f"This API needs no credentials: a proxy at [sources.{source}] base_url refused the request, "
        "or the server blocks this address; check base_url"
    )


def option_int(options: Mapping[str, Any], key: str, default: int, *, minimum: int = 1, maximum: int) -> int:
    """Options may arrive from env vars as strings; clamp to what the API accepts."""
    value = as_int(options.get(key))
    if value is None:
        return default
    return max(minimum, min(value, maximum))


def option_list(options: Mapping[str, Any], key: str) -> list[str]:
    """A list option that may be written as a list, one string, or a comma-separated env var."""
    value = options.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        items = [str(value)]
    return [item.strip() for item in items if item.strip()]
