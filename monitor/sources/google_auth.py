"""Access tokens for Google APIs (Play, Business Profile, YouTube), from a source's options.

Two ways to sign in, both exchanged at one token endpoint (`token_url`, Google's by default; tests point
it at a loopback server):

- a **service account**: its JSON key (`service_account_file`, a path, or `service_account_json`, the
  key itself, e.g. from GRUMBLE_GOOGLE_PLAY_SERVICE_ACCOUNT_JSON) signs an RS256 JWT that is traded
  for a token (RFC 7523, the JWT-bearer grant). What Google Play's API expects.
- an **OAuth refresh token** (`client_id`, `client_secret`, `refresh_token`), traded for a token
  (RFC 6749 section 6). What Business Profile and YouTube replies need: they act as a user.

    token = GoogleToken.from_options("google_play", settings.options, PLAY_SCOPE, client=client)
    client.get(url, headers=token.header())

A token is cached until shortly before it expires, and shared by the threads using the source. A
refused exchange is a `SourceAuthError` naming the setting to fix; no message ever carries the key, the
secret or a token (the endpoint may echo what it was sent, so its answer is masked before quoting).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import jwt

from monitor.errors import SourceAuthError, SourceRateLimited, SourceResponseError, SourceUnavailable
from monitor.sources.http import DEFAULT_RETRY_AFTER_S, retry_after_seconds, snippet

DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 3600  # the most Google accepts
# Renew this long before expiry, so a request never leaves with a token that dies on the way.
EXPIRY_MARGIN_S = 60.0
MASK = "***"


def _variable(source: str, key: str) -> str:
    return f"GRUMBLE_{source.upper()}_{key.upper()}"


def _setting(source: str, *keys: str) -> str:
    """'GRUMBLE_X_A or GRUMBLE_X_B (a, b in [sources.x])': where each setting can be given."""
    names = " or ".join(_variable(source, key) for key in keys)
    return f"{names} ({', '.join(keys)} in [sources.{source}] of grumble.toml)"


@dataclass(frozen=True)
class ServiceAccountKey:
    """The parts of a service account's JSON key that sign in. Its repr never shows the private key."""

    client_email: str
    private_key: str
    private_key_id: str | None = None
    token_uri: str | None = None

    def __repr__(self) -> str:
        return f"ServiceAccountKey(client_email={self.client_email!r}, private_key={MASK})"


@dataclass(frozen=True)
class RefreshCredentials:
    client_id: str
    client_secret: str
    refresh_token: str

    def __repr__(self) -> str:
        return f"RefreshCredentials(client_id={self.client_id!r}, client_secret={MASK}, refresh_token={MASK})"


def read_service_account(source: str, options: Mapping[str, Any]) -> ServiceAccountKey | None:
    """The key from `service_account_json` (text or a table) or `service_account_file`; None when neither
    is set. A key that cannot be used raises SourceAuthError saying which setting and why."""
    inline = options.get("service_account_json")
    path = options.get("service_account_file")
    if inline not in (None, ""):
        where = f"service_account_json ({_variable(source, 'service_account_json')})"
        if isinstance(inline, Mapping):
            data: Any = dict(inline)
        else:
            try:
                data = json.loads(str(inline))
            except ValueError as exc:
                # The decoder's message gives a position, never the text around it.
                raise SourceAuthError(
                    source,
                    f"{where} is not JSON ({exc.__class__.__name__} at line {getattr(exc, 'lineno', '?')}, "
                    f"column {getattr(exc, 'colno', '?')}); paste the whole key file Google gave you, or "
                    f"set {_setting(source, 'service_account_file')} to its path",
                ) from None
    elif path not in (None, ""):
        file = Path(str(path)).expanduser()
        where = f"service_account_file {str(file)!r}"
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SourceAuthError(
                source,
                f"cannot read {where}: {exc.strerror or exc}; set {_setting(source, 'service_account_file')} "
                "to the JSON key downloaded from Google Cloud (IAM > Service accounts > Keys)",
            ) from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SourceAuthError(
                source,
                f"{where} is not JSON ({exc.__class__.__name__} at line {getattr(exc, 'lineno', '?')}); "
                "it should be the key file Google gave you, unchanged",
            ) from None
    else:
        return None
    if not isinstance(data, Mapping):
        raise SourceAuthError(
            source, f"{where} is JSON but not an object; it should be a service account key"
        )
    kind = data.get("type")
    if kind is not None and kind != "service_account":
        raise SourceAuthError(
            source,
            f"{where} is a {kind!r} credential, not a service account key; create a key under Google Cloud "
            "IAM > Service accounts > Keys (JSON), or use client_id, client_secret and refresh_token",
        )
    missing = [
        key for key in ("client_email", "private_key") if not isinstance(data.get(key), str) or not data[key]
    ]
    if missing:
        raise SourceAuthError(
            source, f"{where} has no {' or '.join(missing)}; download the service account's JSON key again"
        )
    key_id = data.get("private_key_id")
    token_uri = data.get("token_uri")
    return ServiceAccountKey(
        client_email=data["client_email"],
        private_key=data["private_key"],
        private_key_id=key_id if isinstance(key_id, str) and key_id else None,
        token_uri=token_uri if isinstance(token_uri, str) and token_uri else None,
    )


def read_refresh_credentials(options: Mapping[str, Any]) -> RefreshCredentials | None:
    """client_id, client_secret and refresh_token when all three are set, else None."""
    values = [str(options.get(key) or "").strip() for key in REFRESH_KEYS]
    if not all(values):
        return None
    return RefreshCredentials(*values)


REFRESH_KEYS = ("client_id", "client_secret", "refresh_token")
SERVICE_ACCOUNT_KEYS = ("service_account_file", "service_account_json")


@dataclass(frozen=True)
class _Cached:
    access_token: str
    expires_at: float


class GoogleToken:
    """An access token for one source's Google credentials, renewed as it expires. Thread-safe."""

    SERVICE_ACCOUNT: ClassVar[str] = "service_account"
    REFRESH_TOKEN: ClassVar[str] = "refresh_token"

    def __init__(
        self,
        source: str,
        client: httpx.Client,
        *,
        scope: str,
        token_url: str | None = None,
        service_account: ServiceAccountKey | None = None,
        refresh: RefreshCredentials | None = None,
        problem: SourceAuthError | None = None,
        grants: tuple[str, ...] = ("service_account", "refresh_token"),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.client = client
        self.scope = scope
        self.service_account = service_account if "service_account" in grants else None
        self.refresh = refresh if "refresh_token" in grants else None
        key_uri = self.service_account.token_uri if self.service_account else None
        self.token_url = token_url or key_uri or DEFAULT_TOKEN_URL
        self.problem = problem
        self.grants = grants
        self.clock = clock
        self._cached: _Cached | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_options(
        cls,
        source: str,
        options: Mapping[str, Any],
        scope: str,
        *,
        client: httpx.Client,
        grants: tuple[str, ...] = ("service_account", "refresh_token"),
        clock: Callable[[], float] = time.time,
    ) -> GoogleToken:
        """The token for `[sources.<source>]`'s credentials. `grants` are the ways this API accepts, in
        order of preference (a service account first where both work). Nothing is sent yet, and a
        missing or unreadable key is only reported when a token is needed (`header`), so a source
        without credentials can still be built and say what it lacks (`missing`)."""
        problem: SourceAuthError | None = None
        key: ServiceAccountKey | None = None
        if "service_account" in grants:
            try:
                key = read_service_account(source, options)
            except SourceAuthError as exc:
                problem = exc
        token_url = str(options.get("token_url") or "").strip() or None
        return cls(
            source,
            client,
            scope=scope,
            token_url=token_url,
            service_account=key,
            refresh=read_refresh_credentials(options),
            problem=problem,
            grants=grants,
            clock=clock,
        )

    @property
    def grant(self) -> str | None:
        """The way this token is obtained, or None when no usable credentials are set."""
        for grant in self.grants:
            if grant == self.SERVICE_ACCOUNT and self.service_account is not None:
                return grant
            if grant == self.REFRESH_TOKEN and self.refresh is not None:
                return grant
        return None

    def settings_hint(self) -> str:
        """Where to set the credentials this API accepts."""
        ways = []
        if "service_account" in self.grants:
            ways.append(f"a service account's JSON key in {_setting(self.source, *SERVICE_ACCOUNT_KEYS)}")
        if "refresh_token" in self.grants:
            ways.append(f"an OAuth client and refresh token in {_setting(self.source, *REFRESH_KEYS)}")
        return "set " + ", or ".join(ways)

    def missing(self) -> str | None:
        """What is still needed before a token can be had, or None when credentials are set."""
        if self.problem is not None and self.grant is None:
            return self.problem.detail
        if self.grant is None:
            return f"Google credentials: {self.settings_hint()}"
        return None

    def header(self) -> dict[str, str]:
        """{"Authorization": "Bearer ..."} with a token valid for at least EXPIRY_MARGIN_S more."""
        return {"Authorization": f"Bearer {self.access_token()}"}

    def access_token(self) -> str:
        with self._lock:
            now = self.clock()
            if self._cached is None or now >= self._cached.expires_at:
                self._cached = self._exchange(now)
            return self._cached.access_token

    def invalidate(self) -> None:
        """Forget the cached token (the API refused it: revoked, or the key was rotated)."""
        with self._lock:
            self._cached = None

    # --- the exchange -----------------------------------------------------------------------------------

    def _exchange(self, now: float) -> _Cached:
        grant = self.grant
        if grant is None:
            if self.problem is not None:
                raise self.problem
            raise SourceAuthError(self.source, f"no Google credentials are set; {self.settings_hint()}")
        if grant == self.SERVICE_ACCOUNT:
            assert self.service_account is not None
            form = {"grant_type": JWT_BEARER, "assertion": self._assertion(self.service_account, now)}
            fix = (
                f"check the service account key ({_setting(self.source, *SERVICE_ACCOUNT_KEYS)}): it may "
                "have been deleted or disabled in Google Cloud IAM; a clock more than a few minutes off also "
                "makes Google refuse it"
            )
            secrets = [self.service_account.private_key, form["assertion"]]
        else:
            assert self.refresh is not None
            form = {
                "grant_type": "refresh_token",
                "client_id": self.refresh.client_id,
                "client_secret": self.refresh.client_secret,
                "refresh_token": self.refresh.refresh_token,
            }
            fix = (
                f"check {_setting(self.source, *REFRESH_KEYS)}: invalid_grant means the refresh token was "
                "revoked or expired (get a new one by consenting again), invalid_client means the client id "
                "or secret is wrong"
            )
            secrets = [self.refresh.client_secret, self.refresh.refresh_token]
        response = self._post(form, secrets)
        return self._read(response, now, fix, secrets)

    def _assertion(self, key: ServiceAccountKey, now: float) -> str:
        issued = int(now)
        claims = {
            "iss": key.client_email,
            "scope": self.scope,
            "aud": self.token_url,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME_S,
        }
        headers = {"kid": key.private_key_id} if key.private_key_id else None
        try:
            return jwt.encode(claims, key.private_key, algorithm="RS256", headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            # Say what kind of failure, never the key: the library's messages do not quote it either.
            raise SourceAuthError(
                self.source,
                f"the service account's private_key cannot sign ({type(exc).__name__}); it must be the PEM "
                f"'-----BEGIN PRIVATE KEY-----' text of the JSON key, unchanged "
                f"({_setting(self.source, *SERVICE_ACCOUNT_KEYS)})",
            ) from None

    def _post(self, form: Mapping[str, str], secrets: list[str]) -> httpx.Response:
        try:
            return self.client.post(self.token_url, data=dict(form), headers={"Accept": "application/json"})
        except httpx.TimeoutException as exc:
            raise SourceUnavailable(
                self.source,
                f"timed out asking {self.token_url} for an access token ({type(exc).__name__}); "
                f"raise [sources.{self.source}] timeout_s if it is just slow",
            ) from None
        except httpx.HTTPError as exc:
            raise SourceUnavailable(
                self.source,
                f"cannot reach {self.token_url} for an access token: {type(exc).__name__}: "
                f"{_mask(str(exc), secrets)}",
            ) from None

    def _read(self, response: httpx.Response, now: float, fix: str, secrets: list[str]) -> _Cached:
        status = response.status_code
        said = _mask(_token_error(response), secrets)
        where = f"the token endpoint {self.token_url}"
        if status == 429:
            wait = retry_after_seconds(response.headers)
            wait = DEFAULT_RETRY_AFTER_S if wait is None else wait
            raise SourceRateLimited(self.source, f"HTTP 429 from {where}; retry after {wait:g} s", wait)
        if status >= 500:
            raise SourceUnavailable(self.source, f"HTTP {status} from {where}: {said}; will retry later")
        if status >= 400:
            # 400 invalid_grant / invalid_client and 401 are all "these credentials do not work".
            raise SourceAuthError(
                self.source, f"{where} refused the credentials (HTTP {status}: {said}); {fix}"
            )
        if not 200 <= status < 300:
            raise SourceResponseError(self.source, f"HTTP {status} from {where}: {said}")
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise SourceResponseError(
                self.source,
                f"{where} answered with something other than JSON "
                f"(content-type {response.headers.get('content-type', '(none)')}): {said}",
            ) from None
        token = data.get("access_token") if isinstance(data, Mapping) else None
        if not isinstance(token, str) or not token:
            raise SourceResponseError(self.source, f"{where} answered without an access_token: {said}")
        lifetime = _seconds(data.get("expires_in"))
        margin = min(EXPIRY_MARGIN_S, lifetime / 2)
        return _Cached(token, now + lifetime - margin)


def _seconds(value: Any) -> float:
    """expires_in as seconds; Google always sends it, so a missing one is taken as a short hour."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 3000.0
    return max(seconds, 1.0)


def _token_error(response: httpx.Response) -> str:
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


def _mask(text: str, secrets: list[str]) -> str:
    """`text` with every secret we sent, and any long run of one, replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
            # A PEM key may come back re-wrapped or escaped: mask each of its lines as well.
            for line in secret.splitlines():
                if len(line) >= 16:
                    text = text.replace(line, MASK)
    return text
