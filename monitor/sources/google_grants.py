"""The two OAuth grants a Google access token is asked for with: what each sends to the token endpoint.

- the **JWT-bearer grant** (RFC 7523), for a service account: an RS256 JWT signed with the account's
  private key (issuer its email, audience the token endpoint, lasting `ASSERTION_LIFETIME_S`);
- the **refresh-token grant** (RFC 6749 section 6), for an OAuth client acting as a user.

Each gives a `Grant`: the form to post, the advice to quote when the endpoint refuses it, and the
secrets it carries, which are masked out of anything the endpoint echoes back. A key that cannot sign is
a `SourceAuthError` that never quotes the key.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from monitor.errors import SourceAuthError
from monitor.sources.google_credentials import (
    REFRESH_KEYS,
    SERVICE_ACCOUNT_KEYS,
    RefreshCredentials,
    ServiceAccountKey,
    setting,
)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 3600  # the most Google accepts


@dataclass(frozen=True)
class Grant:
    """One request for a token: the form to post, what to fix if refused, and the secrets it holds."""

    form: dict[str, str]
    fix: str
    secrets: list[str]


def service_account_grant(
    source: str, key: ServiceAccountKey, *, scope: str, token_url: str, now: float
) -> Grant:
    """The JWT-bearer grant: a fresh assertion signed with the service account's key."""
    signed = assertion(source, key, scope=scope, token_url=token_url, now=now)
    form = {"grant_type": JWT_BEARER, "assertion": signed}
    fix = (
        f"check the service account key ({setting(source, *SERVICE_ACCOUNT_KEYS)}): it may "
        "have been deleted or disabled in Google Cloud IAM; a clock more than a few minutes off also "
        "makes Google refuse it"
    )
    return Grant(form, fix, [key.private_key, form["assertion"]])


def refresh_token_grant(source: str, refresh: RefreshCredentials) -> Grant:
    """The refresh-token grant: the OAuth client and the user's refresh token."""
    form = {
        "grant_type": "refresh_token",
        "client_id": refresh.client_id,
        "client_secret": refresh.client_secret,
        "refresh_token": refresh.refresh_token,
    }
    fix = (
        f"check {setting(source, *REFRESH_KEYS)}: invalid_grant means the refresh token was "
        "revoked or expired (get a new one by consenting again), invalid_client means the client id "
        "or secret is wrong"
    )
    return Grant(form, fix, [refresh.client_secret, refresh.refresh_token])


def assertion(source: str, key: ServiceAccountKey, *, scope: str, token_url: str, now: float) -> str:
    """The RS256 JWT a service account trades for a token, valid from `now` for ASSERTION_LIFETIME_S."""
    issued = int(now)
    claims = {
        "iss": key.client_email,
        "scope": scope,
        "aud": token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME_S,
    }
    headers = {"kid": key.private_key_id} if key.private_key_id else None
    try:
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers=headers)
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        # Say what kind of failure, never the key: the library's messages do not quote it either.
        raise SourceAuthError(
            source,
            f"the service account's private_key cannot sign ({type(exc).__name__}); it must be the PEM "
            f"'-----BEGIN PRIVATE KEY-----' text of the JSON key, unchanged "
            f"({setting(source, *SERVICE_ACCOUNT_KEYS)})",
        ) from None
