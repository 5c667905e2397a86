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
This module is the cached, thread-safe `GoogleToken`; reading the options is google_credentials.py,
the two grants google_grants.py, and the exchange with the endpoint google_token_endpoint.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import httpx

from monitor.errors import SourceAuthError
from monitor.sources.google_credentials import (
    REFRESH_KEYS,
    SERVICE_ACCOUNT_KEYS,
    RefreshCredentials,
    ServiceAccountKey,
    read_refresh_credentials,
    read_service_account,
    setting,
)
from monitor.sources.google_grants import JWT_BEARER as JWT_BEARER
from monitor.sources.google_grants import Grant, refresh_token_grant, service_account_grant
from monitor.sources.google_token_endpoint import DEFAULT_TOKEN_URL, IssuedToken, post_grant, read_token


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
        self._cached: IssuedToken | None = None
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
            ways.append(f"a service account's JSON key in {setting(self.source, *SERVICE_ACCOUNT_KEYS)}")
        if "refresh_token" in self.grants:
            ways.append(f"an OAuth client and refresh token in {setting(self.source, *REFRESH_KEYS)}")
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

    def _exchange(self, now: float) -> IssuedToken:
        grant = self.grant
        if grant is None:
            if self.problem is not None:
                raise self.problem
            raise SourceAuthError(self.source, f"no Google credentials are set; {self.settings_hint()}")
        request: Grant
        if grant == self.SERVICE_ACCOUNT:
            assert self.service_account is not None
            request = service_account_grant(
                self.source, self.service_account, scope=self.scope, token_url=self.token_url, now=now
            )
        else:
            assert self.refresh is not None
            request = refresh_token_grant(self.source, self.refresh)
        response = post_grant(self.client, self.source, self.token_url, request.form, request.secrets)
        return read_token(response, self.source, self.token_url, now, request.fix, request.secrets)
