"""What every helpdesk client shares: the mention as it is handed over, the reference that comes back,
the protocol, and one way to turn an HTTP answer into a result or the right error.

A client is one small class around an injected `httpx.Client` whose base URL is the helpdesk's (a
test's loopback server, an operator's proxy). `create` sends one create request and never retries it
by itself: a timeout, a 5xx or an unreadable answer may mean it was made, so it raises
`HelpdeskUnconfirmed`, and the hand-off (handoff.py) calls `find` before creating again. `find` looks
for the conversation or ticket by the hand-off's marker, which `create` writes into it.

    no answer, 5xx, unreadable answer to a create   -> HelpdeskUnconfirmed (the next attempt looks first)
    cannot connect; any failure of a search          -> HelpdeskError (nothing was created; try later)
    401, 403                                         -> HelpdeskRejected (names token_env)
    429                                              -> HelpdeskError (try later)
    other 4xx                                        -> HelpdeskRejected (the helpdesk's own words)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from monitor.config.helpdesk import HelpdeskAccount
from monitor.errors import HelpdeskError, HelpdeskRejected, HelpdeskUnconfirmed
from monitor.sources.base import USER_AGENT
from monitor.sources.http import masked, snippet

# The line every hand-off ends with; the marker after it is what a retry searches for.
MARKER_LABEL = "Grumble ref"


@dataclass(frozen=True)
class Handoff:
    """One mention as a helpdesk receives it."""

    mention_id: int
    marker: str  # unique per hand-off, one word (letters and digits), so any search finds it whole
    source: str
    text: str
    author: str | None
    url: str | None
    created_at: datetime
    label: str | None
    negative: float | None
    neutral: float | None
    positive: float | None
    priority: float
    title: str | None = None
    rating: float | None = None

    @property
    def subject(self) -> str:
        """A conversation's subject or a ticket's title, with the marker, so a title search finds it."""
        who = self.author or "someone"
        verdict = self.label or "unscored"
        return f"{verdict.capitalize()} {self.source} mention from {who} ({MARKER_LABEL} {self.marker})"[:250]

    def scores(self) -> str:
        if self.negative is None or self.neutral is None or self.positive is None:
            return "not scored yet"
        return (
            f"{self.label or 'unscored'} (negative {self.negative:.2f}, neutral {self.neutral:.2f}, "
            f"positive {self.positive:.2f}), priority {self.priority:.1f}"
        )

    def body(self) -> str:
        """The mention's text, then where it is, who wrote it, how it scored, and the marker line."""
        lines = []
        if self.title:
            lines += [self.title, ""]
        lines += [
            self.text,
            "",
            f"— {self.author or 'unknown author'} on {self.source}, {self.created_at:%Y-%m-%d %H:%M} UTC",
        ]
        if self.rating is not None:
            lines.append(f"Rating: {self.rating:g} stars")
        if self.url:
            lines.append(f"Link: {self.url}")
        lines.append(f"Sentiment: {self.scores()}")
        lines.append(f"{MARKER_LABEL} {self.marker}")
        return "\n".join(lines)


@dataclass(frozen=True)
class RemoteRef:
    """The conversation or ticket a hand-off made: its id on the helpdesk and the agents' link to it."""

    id: str
    url: str


class Helpdesk(Protocol):
    name: str

    def create(self, handoff: Handoff) -> RemoteRef:
        """Create the conversation or ticket: one request chain, never retried by itself."""
        ...

    def find(self, handoff: Handoff) -> RemoteRef | None:
        """The conversation or ticket an earlier attempt of this hand-off made, by its marker; None
        when there is none."""
        ...


def build_client(account: HelpdeskAccount, auth: Mapping[str, str]) -> httpx.Client:
    """A client for one helpdesk: its base URL, its timeout, Grumble's User-Agent, its auth header."""
    return httpx.Client(
        base_url=account.base_url,
        timeout=account.timeout_s,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **auth},
        follow_redirects=False,
    )


class Caller:
    """One helpdesk's requests, with its failures turned into HelpdeskErrors whose messages never
    carry the token."""

    def __init__(self, helpdesk: str, client: httpx.Client, token: str) -> None:
        self.helpdesk = helpdesk
        self.client = client
        self._secrets = (token,)

    def call(self, method: str, path: str, *, creating: bool = False, **kwargs: Any) -> httpx.Response:
        where = f"{method} {self.client.base_url.join(path)}"
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise HelpdeskError(self.helpdesk, f"cannot reach {where}: {exc}; nothing was created") from None
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            if creating:
                raise HelpdeskUnconfirmed(
                    self.helpdesk,
                    f"no answer to {where} ({type(exc).__name__}); it may have been created, so the next "
                    "attempt looks for it first",
                ) from None
            raise HelpdeskError(self.helpdesk, f"no answer to {where} ({type(exc).__name__})") from None
        self._check(response, where, creating)
        return response

    def json(self, method: str, path: str, *, creating: bool = False, **kwargs: Any) -> Any:
        response = self.call(method, path, creating=creating, **kwargs)
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            said = snippet(response.content, secrets=self._secrets)
            message = f"{method} {path} answered {response.status_code} without JSON: {said!r}"
            if creating:
                raise HelpdeskUnconfirmed(
                    self.helpdesk, f"{message}; the next attempt looks for it first"
                ) from None
            raise HelpdeskError(self.helpdesk, message) from None

    def _check(self, response: httpx.Response, where: str, creating: bool) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        said = masked(snippet(response.content or b"(empty body)", secrets=self._secrets), self._secrets)
        if status >= 500:
            if creating:
                raise HelpdeskUnconfirmed(
                    self.helpdesk,
                    f"HTTP {status} from {where}: {said}; it may have been created, so the next attempt "
                    "looks for it first",
                )
            raise HelpdeskError(self.helpdesk, f"HTTP {status} from {where}: {said}; will try again later")
        if status in (401, 403):
            raise HelpdeskRejected(
                self.helpdesk,
                f"HTTP {status} from {where}: {said}. Check the API token in the variable that "
                f"[helpdesk.{self.helpdesk}] token_env names, and its permissions",
            )
        if status == 429:
            raise HelpdeskError(self.helpdesk, f"HTTP 429 rate limited on {where}; will try again later")
        raise HelpdeskRejected(self.helpdesk, f"HTTP {status} from {where}: {said}")


def created(helpdesk: str, data: Any, what: str) -> Mapping[str, Any]:
    """A create request's answer, which must be a JSON object: anything else leaves it unconfirmed."""
    if not isinstance(data, Mapping):
        raise HelpdeskUnconfirmed(helpdesk, f"expected a JSON object for {what}, got {type(data).__name__}")
    return data


def remote_id(value: Any) -> str | None:
    """An id as the helpdesks send it (a number, sometimes a string), as text; None if there is none."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str) and str(value).strip():
        return str(value).strip()
    return None
