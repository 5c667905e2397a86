"""The App Store Connect API's bearer token: a JWT signed with the team's .p8 key (ES256).

Apple's rules ("Generating Tokens for API Requests"): header `alg` ES256, `kid` the key id, `typ` JWT;
claims `iss` the issuer id, `aud` "appstoreconnect-v1", `iat` and `exp`, with `exp` no more than 20
minutes after `iat` (a longer one is refused with 401). One token is made, kept, and made again shortly
before it runs out, so a collect run of many pages signs once.

The key comes from `private_key_file` (the AuthKey_XXXX.p8 path) or `private_key` (its PEM text, e.g.
from GRUMBLE_APP_STORE_CONNECT_PRIVATE_KEY). Whatever goes wrong with it, the message names the
setting and never quotes the key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from monitor.errors import SourceAuthError

AUDIENCE = "appstoreconnect-v1"
# Apple refuses a token that lives longer than 20 minutes; a little less leaves room for clock skew.
LIFETIME_S = 19 * 60
# Made again this long before it runs out, so no request leaves with a token about to expire.
RENEW_BEFORE_S = 2 * 60
WHERE_KEYS_ARE = (
    "create the key in App Store Connect > Users and Access > Integrations > App Store Connect API "
    "(the issuer id is shown above the list of keys)"
)


def settings_hint(source: str) -> str:
    """Which settings make up the key, in grumble.toml and as variables."""
    prefix = f"GRUMBLE_{source.upper()}_"
    return (
        f"set issuer_id, key_id and private_key_file (the AuthKey_<key id>.p8 path) or private_key (its PEM "
        f"text) in [sources.{source}] of grumble.toml, or {prefix}ISSUER_ID, {prefix}KEY_ID and "
        f"{prefix}PRIVATE_KEY_FILE / {prefix}PRIVATE_KEY; {WHERE_KEYS_ARE}"
    )


def missing_settings(options: Mapping[str, Any]) -> list[str]:
    """The key settings not given at all (empty counts as not given)."""
    missing = [name for name in ("issuer_id", "key_id") if not str(options.get(name) or "").strip()]
    if (
        not str(options.get("private_key_file") or "").strip()
        and not str(options.get("private_key") or "").strip()
    ):
        missing.append("private_key_file (or private_key)")
    return missing


class AppStoreConnectToken:
    """Signs and caches the bearer token. Thread-safe: a reply and a collect run may share it."""

    def __init__(
        self, source: str, options: Mapping[str, Any], clock: Callable[[], float] = time.time
    ) -> None:
        self.source = source
        self.issuer_id = str(options.get("issuer_id") or "").strip()
        self.key_id = str(options.get("key_id") or "").strip()
        self._key_file = str(options.get("private_key_file") or "").strip()
        self._key_text = str(options.get("private_key") or "")
        self._missing = missing_settings(options)
        self._clock = clock
        self._lock = threading.Lock()
        self._key: ec.EllipticCurvePrivateKey | None = None
        self._token: str | None = None
        self._expires_at = 0.0

    @property
    def configured(self) -> bool:
        return not self._missing

    def missing(self) -> list[str]:
        return list(self._missing)

    def authorization(self) -> str:
        """`Bearer <jwt>`: the cached token, or a new one when it would expire within RENEW_BEFORE_S."""
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires_at - RENEW_BEFORE_S:
                self._token, self._expires_at = self._sign(int(now))
            return f"Bearer {self._token}"

    def forget(self) -> None:
        """Drop the cached token (after Apple refused it), so the next request signs a new one."""
        with self._lock:
            self._token = None

    def _sign(self, now: int) -> tuple[str, float]:
        key = self._private_key()
        expires = now + LIFETIME_S
        claims = {"iss": self.issuer_id, "iat": now, "exp": expires, "aud": AUDIENCE}
        try:
            token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": self.key_id, "typ": "JWT"})
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise SourceAuthError(
                self.source, f"cannot sign the API token ({type(exc).__name__}); {settings_hint(self.source)}"
            ) from None
        return token, float(expires)

    def _private_key(self) -> ec.EllipticCurvePrivateKey:
        if self._key is not None:
            return self._key
        if self._missing:
            raise SourceAuthError(
                self.source,
                f"the App Store Connect API key is not configured: {', '.join(self._missing)} missing; "
                + settings_hint(self.source),
            )
        pem, where = self._pem()
        try:
            key = load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            # The exception's text can quote parts of the input: only its type is reported.
            raise SourceAuthError(
                self.source,
                f"{where} is not a readable PEM private key ({type(exc).__name__}); it must be the .p8 file "
                f"App Store Connect let you download once, unchanged; {WHERE_KEYS_ARE}",
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise SourceAuthError(
                self.source,
                f"{where} holds a {type(key).__name__.lstrip('_')} key, not the P-256 (ES256) key of an "
                f"App Store Connect API .p8 file; {WHERE_KEYS_ARE}",
            )
        self._key = key
        return key

    def _pem(self) -> tuple[bytes, str]:
        if self._key_file:
            path = Path(self._key_file).expanduser()
            where = f"[sources.{self.source}] private_key_file {str(path)!r}"
            try:
                return path.read_bytes(), where
            except OSError as exc:
                raise SourceAuthError(
                    self.source,
                    f"{where} cannot be read ({type(exc).__name__}: {exc.strerror}); check the path, or give "
                    f"the key's text in private_key instead",
                ) from None
        text = self._key_text.strip()
        if "\\n" in text and "\n" not in text:
            # A PEM pasted into one environment line often arrives with its newlines written as \n.
            text = text.replace("\\n", "\n")
        return text.encode(
            "utf-8"
        ), f"[sources.{self.source}] private_key (GRUMBLE_{self.source.upper()}_PRIVATE_KEY)"
