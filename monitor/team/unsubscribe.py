"""The signed link in each notification email that turns that kind of email off for its person.

The digests' scheme (monitor/auth/signing.py): itsdangerous over a key kept in the database, so the
worker that mails the link and the dashboard that reads it agree; its own purpose and salt, so a
digest's link or a session cookie is never a valid token here. It does not expire: a link in an old
email still works."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Engine

from monitor.auth.signing import signing_key

PURPOSE = "notification-unsubscribe"
SALT = "grumble-notification-unsubscribe"
PATH = "/grumble/notifications/unsubscribe"


@dataclass(frozen=True)
class NoticeChoice:
    """A link's claim: this person may turn this kind of email off (or on again)."""

    user_name: str
    kind: str


def _serializer(engine: Engine) -> URLSafeSerializer:
    return URLSafeSerializer(signing_key(engine, PURPOSE), salt=SALT)


def notice_token(engine: Engine, user_name: str, kind: str) -> str:
    return _serializer(engine).dumps([user_name, kind])


def read_notice_token(engine: Engine, token: str) -> NoticeChoice | None:
    """The claim in `token`, or None when it was not made by us (edited, truncated, forged)."""
    try:
        value: Any = _serializer(engine).loads(token)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value)):
        return None
    return NoticeChoice(value[0], value[1])


def notice_unsubscribe_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{PATH}?token={quote(token, safe='')}"
