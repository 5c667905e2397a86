"""Reading a source's Google credentials from its options, before anything is sent.

A source signs in to Google with either a service account's JSON key (`service_account_json`, the key
itself as text or a table, or `service_account_file`, a path) or an OAuth client and refresh token
(`client_id`, `client_secret`, `refresh_token`). This module turns those options into
`ServiceAccountKey` / `RefreshCredentials` values, raising `SourceAuthError` naming the setting to fix
when a key cannot be used, and says where each setting can be given (`setting`). The values' reprs never
show the private key, the secret or the token; `MASK` is what stands in for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import SourceAuthError

MASK = "***"
REFRESH_KEYS = ("client_id", "client_secret", "refresh_token")
SERVICE_ACCOUNT_KEYS = ("service_account_file", "service_account_json")


def variable(source: str, key: str) -> str:
    return f"GRUMBLE_{source.upper()}_{key.upper()}"


def setting(source: str, *keys: str) -> str:
    """'GRUMBLE_X_A or GRUMBLE_X_B (a, b in [sources.x])': where each setting can be given."""
    names = " or ".join(variable(source, key) for key in keys)
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
        where = f"service_account_json ({variable(source, 'service_account_json')})"
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
                    f"set {setting(source, 'service_account_file')} to its path",
                ) from None
    elif path not in (None, ""):
        file = Path(str(path)).expanduser()
        where = f"service_account_file {str(file)!r}"
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SourceAuthError(
                source,
                f"cannot read {where}: {exc.strerror or exc}; set {setting(source, 'service_account_file')} "
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
