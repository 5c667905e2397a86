"""Webhooks coming back from the helpdesks: each verified with its own scheme, then read for the one
thing Grumble acts on, a conversation or ticket resolved or reopened.

    Chatwoot   X-Chatwoot-Signature: sha256=<hex HMAC-SHA256 over "{X-Chatwoot-Timestamp}.{raw body}">,
               the timestamp no older (and no further ahead) than 5 minutes
    Zammad     X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body>   (no timestamp is signed)
    FreeScout  X-FreeScout-Signature: base64(HMAC-SHA1 of the raw body) (UNVERIFIED: the module is
               closed; this is what independent receivers agree on, see ../shared/data/payloads/
               freescout/official-doc_webhooks_events-and-signature.txt; the key is the one FreeScout
               derives, md5(APP_KEY . "webhook_key"), which the operator puts in webhook_secret_env)

A call without a signature (or to a helpdesk with no webhook secret configured) is refused with 401; one
whose signature does not match, or whose timestamp is stale, with 403. The replay key is a hash of the
signed bytes, so a copy of a delivery cannot get a new key without a new signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.helpdesk.base import remote_id

# Chatwoot's documented replay window.
MAX_AGE_S = 300.0


class Refused(Exception):
    """A webhook call that is not acted on: `status` is the HTTP answer (401 unsigned, 403 forged or
    stale), the message says why, for the log."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class News:
    """What a verified delivery says."""

    key: str  # the replay key: a hash of the signed bytes
    delivery_id: str | None  # the helpdesk's own delivery id, for the log
    event: str | None
    remote_id: str | None  # the conversation's or ticket's id
    status: str | None  # as the helpdesk words it (resolved, closed, open, active, ...)
    change: str | None  # "resolved", "reopened", or None: nothing for Grumble to do


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _require(secret: str | None, helpdesk: str, signature: str | None, header: str) -> tuple[str, str]:
    if not secret:
        raise Refused(
            401,
            f"no webhook secret is configured for {helpdesk}: set [helpdesk.{helpdesk}] webhook_secret_env "
            "to the variable holding the secret the helpdesk signs with",
        )
    if not signature:
        raise Refused(401, f"unsigned: no {header} header")
    return secret, signature.strip()


def _matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def verify_chatwoot(headers: Mapping[str, str], body: bytes, secret: str | None, now: datetime) -> str:
    secret, signature = _require(
        secret, "chatwoot", headers.get("x-chatwoot-signature"), "X-Chatwoot-Signature"
    )
    stamp = (headers.get("x-chatwoot-timestamp") or "").strip()
    if not stamp.isdigit():
        raise Refused(401, "unsigned: no X-Chatwoot-Timestamp header in Unix seconds")
    signed = stamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not _matches(expected, signature.lower()):
        raise Refused(
            403, "X-Chatwoot-Signature does not match the body and timestamp (wrong secret, or forged)"
        )
    age = now.timestamp() - int(stamp)
    if abs(age) > MAX_AGE_S:
        when = f"{age:.0f} s ago" if age > 0 else f"{-age:.0f} s ahead"
        raise Refused(
            403, f"stale: signed {when}, outside the {MAX_AGE_S:.0f} s window (a replay, or a clock off)"
        )
    return _digest(signed)


def verify_zammad(headers: Mapping[str, str], body: bytes, secret: str | None, now: datetime) -> str:
    secret, signature = _require(secret, "zammad", headers.get("x-hub-signature"), "X-Hub-Signature")
    expected = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    if not _matches(expected, signature.lower()):
        raise Refused(403, "X-Hub-Signature does not match the body (wrong signature token, or forged)")
    return _digest(body)


def verify_freescout(headers: Mapping[str, str], body: bytes, secret: str | None, now: datetime) -> str:
    secret, signature = _require(
        secret, "freescout", headers.get("x-freescout-signature"), "X-FreeScout-Signature"
    )
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha1).digest()).decode()
    if not _matches(expected, signature):
        raise Refused(403, "X-FreeScout-Signature does not match the body (wrong key, or forged)")
    return _digest(body)


def _json(body: bytes) -> Mapping[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(data, Mapping):
        raise Refused(400, "the body is not a JSON object")
    return data


def _word(value: Any) -> str | None:
    """A status as text: Zammad sends its state as a name or as {"name": ...}."""
    if isinstance(value, Mapping):
        value = value.get("name")
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


# Chatwoot events whose body is the conversation itself (its status among it); message events are not news.
_CHATWOOT_STATUS_EVENTS = ("conversation_status_changed", "conversation_updated")
_RESOLVED = {"chatwoot": ("resolved",), "zammad": ("closed",), "freescout": ("closed",)}
_OPEN = {"chatwoot": ("open",), "zammad": ("open", "new"), "freescout": ("active",)}


def _change(helpdesk: str, status: str | None) -> str | None:
    if status in _RESOLVED[helpdesk]:
        return "resolved"
    if status in _OPEN[helpdesk]:
        return "reopened"
    return None


def read_chatwoot(headers: Mapping[str, str], body: bytes, key: str) -> News:
    data = _json(body)
    event = str(data.get("event") or "") or None
    conversation: Mapping[str, Any] = data if event in _CHATWOOT_STATUS_EVENTS else {}
    status = _word(conversation.get("status"))
    return News(
        key,
        headers.get("x-chatwoot-delivery"),
        event,
        remote_id(conversation.get("id")),
        status,
        _change("chatwoot", status),
    )


def read_zammad(headers: Mapping[str, str], body: bytes, key: str) -> News:
    ticket = _json(body).get("ticket")
    ticket = ticket if isinstance(ticket, Mapping) else {}
    status = _word(ticket.get("state"))
    event = headers.get("x-zammad-trigger") or "trigger"
    return News(
        key,
        headers.get("x-zammad-delivery"),
        event,
        remote_id(ticket.get("id")),
        status,
        _change("zammad", status),
    )


def read_freescout(headers: Mapping[str, str], body: bytes, key: str) -> News:
    event = headers.get("x-freescout-event")
    conversation = _json(body) if (event or "convo.").startswith("convo.") else {}
    status = _word(conversation.get("status"))
    return News(key, None, event, remote_id(conversation.get("id")), status, _change("freescout", status))


@dataclass(frozen=True)
class Scheme:
    verify: Callable[[Mapping[str, str], bytes, str | None, datetime], str]
    read: Callable[[Mapping[str, str], bytes, str], News]


SCHEMES: dict[str, Scheme] = {
    "chatwoot": Scheme(verify_chatwoot, read_chatwoot),
    "zammad": Scheme(verify_zammad, read_zammad),
    "freescout": Scheme(verify_freescout, read_freescout),
}


def verified_news(
    helpdesk: str, headers: Mapping[str, str], body: bytes, secret: str | None, now: datetime
) -> News:
    """What a delivery says, once its signature holds; Refused otherwise. `headers` lower-case."""
    scheme = SCHEMES.get(helpdesk)
    if scheme is None:
        raise Refused(404, f"no helpdesk called {helpdesk!r}; expected one of {', '.join(SCHEMES)}")
    key = scheme.verify(headers, body, secret, now)
    return scheme.read(headers, body, key)
