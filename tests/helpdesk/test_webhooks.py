"""Status coming back: each helpdesk's webhook, signed its own way and posted to /hooks/<helpdesk> (the
route the dashboard's server mounts), resolves and reopens the case through the transition table;
unsigned, forged and stale calls are refused and logged; a replayed delivery does nothing twice.

Bodies are the documented webhook examples (tests/helpdesk/fakes.py names each file); the derived
signed examples in ../shared/data/payloads verify as they are."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from monitor.config.helpdesk import HelpdeskSettings
from monitor.helpdesk.handoff import send_to_helpdesk
from monitor.helpdesk.inbound import Refused, verify_chatwoot, verify_zammad
from monitor.helpdesk.receiver import HOOKS_PREFIX, hook_endpoint
from monitor.respond.cases import set_status
from monitor.store.cases import find_case
from monitor.store.helpdesk_links import links_for_mention, recent_deliveries
from monitor.store.triage import history
from tests.helpdesk.conftest import RESPONDER, Desk, Store, account
from tests.helpdesk.fakes import (
    CHATWOOT,
    SECRET,
    ZAMMAD,
    chatwoot_delivery,
    freescout_delivery,
    zammad_delivery,
)

Delivery = Callable[[str, str], tuple[dict[str, str], bytes]]
# What each helpdesk calls closed and open, and how it signs.
WORDS: dict[str, tuple[str, str, Delivery]] = {
    "chatwoot": ("resolved", "open", lambda i, s: chatwoot_delivery(i, s)),
    "zammad": ("closed", "open", lambda i, s: zammad_delivery(i, s)),
    "freescout": ("closed", "active", lambda i, s: freescout_delivery(i, s)),
}


@dataclass
class Hooks:
    client: TestClient
    engine: Engine

    def post(self, helpdesk: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        answer = self.client.post(HOOKS_PREFIX + helpdesk, headers=headers, content=body)
        return answer.status_code, answer.json()["detail"]


@pytest.fixture
def hooks(store: Store, replay_server: object) -> Iterator[Hooks]:
    settings = HelpdeskSettings({name: account(name, "http://unused.invalid") for name in WORDS})
    app = Starlette(
        routes=[
            Route(
                HOOKS_PREFIX + "{helpdesk}",
                hook_endpoint(lambda: settings, lambda: store.engine),
                methods=["POST"],
            )
        ]
    )
    with TestClient(app) as client:
        yield Hooks(client, store.engine)


def _sent(store: Store, desk: Desk) -> str:
    link = send_to_helpdesk(store.engine, store.ids["appstore"], desk.client, "rick", RESPONDER)
    assert link.remote_id is not None
    return link.remote_id


def test_a_resolved_conversation_resolves_the_case_and_a_reopened_one_reopens_it(
    store: Store, desk: Desk, hooks: Hooks
) -> None:
    mention_id = store.ids["appstore"]
    remote = _sent(store, desk)
    closed, opened, delivery = WORDS[desk.name]

    status, said = hooks.post(desk.name, *delivery(remote, closed))
    assert status == 200 and "resolved the case" in said
    case = find_case(store.engine, mention_id)
    assert case is not None and case.status == "resolved"
    (link,) = links_for_mention(store.engine, mention_id)
    assert link.remote_status == closed
    trail = [(e.action, e.after, e.actor) for e in history(store.engine, mention_id)]
    assert ("status", "resolved", desk.name) in trail and ("triage", "handled", desk.name) in trail

    status, said = hooks.post(desk.name, *delivery(remote, opened))
    assert status == 200 and "reopened the case" in said
    case = find_case(store.engine, mention_id)
    assert case is not None and case.status == "in_progress" and case.resolved_at is None


def test_a_replayed_delivery_does_nothing_the_second_time(
    store: Store, chatwoot_desk: Desk, hooks: Hooks
) -> None:
    mention_id = store.ids["appstore"]
    remote = _sent(store, chatwoot_desk)
    resolved = chatwoot_delivery(remote, "resolved")
    assert hooks.post("chatwoot", *resolved)[0] == 200
    case = find_case(store.engine, mention_id)
    assert case is not None
    # A person reopens it; the same resolving delivery sent again (a retry, or a copy) must not close it.
    set_status(store.engine, case.id, "in_progress", "rick")
    events = len(history(store.engine, mention_id))
    status, said = hooks.post("chatwoot", *resolved)
    assert (status, said) == (200, "already received: nothing done again")
    case = find_case(store.engine, mention_id)
    assert case is not None and case.status == "in_progress"
    assert len(history(store.engine, mention_id)) == events
    # The copy with a fresh delivery id is the same signed content: still a replay.
    headers, body = resolved
    assert hooks.post("chatwoot", {**headers, "X-Chatwoot-Delivery": "another"}, body)[1].startswith(
        "already"
    )
    assert [d.outcome for d in recent_deliveries(store.engine)].count(
        "already received: nothing done again"
    ) == 0


@pytest.mark.parametrize("helpdesk", list(WORDS))
def test_unsigned_and_forged_calls_are_refused_and_logged(
    store: Store, hooks: Hooks, helpdesk: str, caplog: pytest.LogCaptureFixture
) -> None:
    closed, _, delivery = WORDS[helpdesk]
    headers, body = delivery("500", closed)
    signature = next(k for k in headers if "Signature" in k)
    unsigned = {k: v for k, v in headers.items() if k != signature}
    assert hooks.post(helpdesk, unsigned, body)[0] == 401
    forged = (
        body.replace(b'"id":500', b'"id":501')
        if helpdesk != "freescout"
        else body.replace(b'"id": 500', b'"id": 501')
    )
    assert forged != body
    status, said = hooks.post(helpdesk, headers, forged)
    assert status == 403 and "does not match" in said
    wrong_key = {
        "chatwoot": lambda: chatwoot_delivery("500", closed, secret="guessed"),
        "zammad": lambda: zammad_delivery("500", closed, secret="guessed"),
        "freescout": lambda: freescout_delivery("500", closed, secret="guessed"),
    }[helpdesk]()
    assert hooks.post(helpdesk, *wrong_key)[0] == 403
    assert recent_deliveries(store.engine) == []
    refused = [r.getMessage() for r in caplog.records if "refused a" in r.getMessage()]
    assert len(refused) == 3 and all(helpdesk in line for line in refused)


def test_a_stale_or_future_chatwoot_timestamp_is_refused(
    store: Store, chatwoot_desk: Desk, hooks: Hooks
) -> None:
    remote = _sent(store, chatwoot_desk)
    now = datetime.now(UTC).timestamp()
    status, said = hooks.post("chatwoot", *chatwoot_delivery(remote, "resolved", at=now - 301))
    assert status == 403 and said.startswith("stale")
    assert hooks.post("chatwoot", *chatwoot_delivery(remote, "resolved", at=now + 400))[0] == 403
    case = find_case(store.engine, store.ids["appstore"])
    assert case is not None and case.status == "new"


def test_an_unconfigured_secret_or_helpdesk_refuses_everything(store: Store) -> None:
    from monitor.helpdesk.receiver import receive

    settings = HelpdeskSettings({"chatwoot": account("chatwoot", "http://x.invalid", webhook_secret=None)})
    answer = receive(store.engine, settings, "chatwoot", *_lower(chatwoot_delivery("1", "resolved")))
    assert answer.status == 401 and "webhook_secret_env" in answer.outcome
    assert receive(store.engine, settings, "zammad", *_lower(zammad_delivery("1", "closed"))).status == 404
    assert receive(store.engine, settings, "zendesk", {}, b"{}").status == 404


def test_a_delivery_about_a_conversation_grumble_did_not_make_is_acknowledged_and_ignored(
    store: Store, hooks: Hooks
) -> None:
    status, said = hooks.post("zammad", *zammad_delivery("4242", "closed"))
    assert (status, said) == (200, "ignored: not a conversation Grumble handed over")


def test_the_documented_signed_examples_verify() -> None:
    """The worked examples in the payload folders (DERIVED: signed with placeholder secrets)."""
    headers, body = _http(CHATWOOT / "signature-example_message_created_DERIVED.http")
    signed_at = datetime.fromtimestamp(int(headers["x-chatwoot-timestamp"]), UTC)
    assert verify_chatwoot(headers, body, "placeholder-webhook-secret", signed_at)
    with pytest.raises(Refused, match="stale"):
        verify_chatwoot(headers, body, "placeholder-webhook-secret", datetime.fromtimestamp(1700000301, UTC))
    headers, body = _http(ZAMMAD / "signature-example_default-payload_DERIVED.http")
    assert verify_zammad(headers, body, "placeholder-signature-token", signed_at)
    with pytest.raises(Refused) as refused:
        verify_zammad(headers, body, SECRET, signed_at)
    assert refused.value.status == 403


def _http(path: object) -> tuple[dict[str, str], bytes]:
    from pathlib import Path

    assert isinstance(path, Path)
    head, body = path.read_bytes().split(b"\n\n", 1)
    lines = head.decode().splitlines()[1:]
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
    json.loads(body)
    return headers, body


def _lower(delivery: tuple[dict[str, str], bytes]) -> tuple[dict[str, str], bytes]:
    headers, body = delivery
    return {k.lower(): v for k, v in headers.items()}, body
