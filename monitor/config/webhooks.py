"""`[webhooks]` and `[[webhooks.endpoints]]`: where signed events go, which ones, and under which secret.

The secret is never in the file: an endpoint names the environment variable that holds it
(`secret_env`), and during a key rotation a second one with the previous secret (`previous_secret_env`),
so that each request carries a signature under both until the receiver has switched."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from monitor.config.tables import TableReader
from monitor.errors import ConfigError
from monitor.webhooks.event_types import EVENT_TYPES

WEBHOOK_KEYS = {"timeout_seconds", "every_minutes", "endpoints"}
ENDPOINT_KEYS = {"name", "url", "events", "secret_env", "previous_secret_env"}
SECRET_PREFIX = "whsec_"
# The spec asks for 24 to 64 random bytes; fewer than 16 is guessable, more than 64 is not its format.
MIN_SECRET_BYTES = 16
MAX_SECRET_BYTES = 64
HOW_TO_MAKE_A_SECRET = (
    "make one with: python -c "
    "\"import base64, os; print('whsec_' + base64.b64encode(os.urandom(32)).decode())\""
)


@dataclass(frozen=True)
class WebhookEndpoint:
    name: str
    url: str = field(repr=False)  # may carry a token in its path or query
    events: tuple[str, ...] = ()
    # The signing keys, the current one first; a second during a rotation (never shown).
    keys: tuple[bytes, ...] = field(default=(), repr=False)

    def wants(self, event_type: str) -> bool:
        return event_type in self.events

    @property
    def host(self) -> str:
        """Where it posts, without the path or query (which may hold a token): for logs and pages."""
        return urlsplit(self.url).netloc


@dataclass(frozen=True)
class WebhookSettings:
    endpoints: tuple[WebhookEndpoint, ...] = ()
    timeout_seconds: float = 10.0  # one request; a slower endpoint counts as failing
    every_minutes: float = 1.0  # how often new events are looked for and due deliveries sent

    @property
    def enabled(self) -> bool:
        return bool(self.endpoints)

    def endpoint(self, name: str) -> WebhookEndpoint | None:
        return next((endpoint for endpoint in self.endpoints if endpoint.name == name), None)


def signing_key(secret: str) -> bytes:
    """The key a `whsec_` secret stands for: its base64 after the prefix (the prefix and the padding may be
    left out, as the reference libraries accept). ValueError says what is wrong, never the secret."""
    text = secret.strip()
    if text.startswith(SECRET_PREFIX):
        text = text[len(SECRET_PREFIX) :]
    if not text:
        raise ValueError("the secret is empty")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise ValueError("the secret is not base64 after its whsec_ prefix") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(
            f"the secret is {len(key)} bytes; "
            f"it must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes"
        )
    return key


def _key(reader: TableReader, environ: Mapping[str, str], setting: str, required: bool) -> bytes | None:
    variable = reader.text(setting)
    where = reader.location(setting)
    if variable is None:
        if not required:
            return None
        raise ConfigError(
            f"{where}: expected the name of the environment variable that holds the endpoint's whsec_ "
            f"secret (the secret itself never goes in the file); {HOW_TO_MAKE_A_SECRET}"
        )
    secret = environ.get(variable, "")
    if not secret.strip():
        raise ConfigError(
            f"{where}: the variable {variable} is not set; set it to a whsec_ secret; {HOW_TO_MAKE_A_SECRET}"
        )
    try:
        return signing_key(secret)
    except ValueError as exc:
        raise ConfigError(
            f"{where}: {variable} does not hold a usable secret: {exc}; {HOW_TO_MAKE_A_SECRET}"
        ) from None


def _url(reader: TableReader) -> str:
    url = reader.text("url")
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise reader.fail("url", "an http:// or https:// URL", url)
    return str(url)


def _events(reader: TableReader) -> tuple[str, ...]:
    events = reader.words("events")
    known = ", ".join(EVENT_TYPES)
    if not events:
        raise reader.fail("events", f"a list of the event types to send, from: {known}", events)
    for event in events:
        if event not in EVENT_TYPES:
            raise reader.fail("events", f"event types from: {known}", event)
    return tuple(dict.fromkeys(events))


def parse_webhooks(root: TableReader, environ: Mapping[str, str]) -> WebhookSettings:
    reader = root.sub("webhooks")
    reader.reject_unknown(WEBHOOK_KEYS)
    endpoints: list[WebhookEndpoint] = []
    for table in reader.tables("endpoints"):
        table.reject_unknown(ENDPOINT_KEYS)
        name = table.text("name")
        if not name:
            raise table.fail("name", "a name for the endpoint (it keys its delivery log)", None)
        if any(endpoint.name == name for endpoint in endpoints):
            raise table.fail("name", "a name no other endpoint has", name)
        current = _key(table, environ, "secret_env", required=True)
        previous = _key(table, environ, "previous_secret_env", required=False)
        keys = tuple(key for key in (current, previous) if key is not None)
        endpoints.append(WebhookEndpoint(name=name, url=_url(table), events=_events(table), keys=keys))
    return WebhookSettings(
        endpoints=tuple(endpoints),
        timeout_seconds=reader.number("timeout_seconds", 10.0, minimum=0.1),
        every_minutes=reader.number("every_minutes", 1.0, minimum=0.05),
    )
