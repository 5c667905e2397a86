"""Handing a case to Chatwoot, Zammad and FreeScout (each a loopback fake answering as its documented
examples, tests/helpdesk/fakes.py): created once with the mention's text, link, scores and author;
a retry after a lost answer finds what the first attempt created; a refusal says what to fix."""

from __future__ import annotations

from datetime import timedelta

import jsonschema  # type: ignore[import-untyped]  # (altair, a dependency of streamlit, brings it)
import pytest

from monitor.errors import HelpdeskBusy
from monitor.helpdesk.handoff import SENDING_LEASE, send_to_helpdesk
from monitor.mention import utcnow
from monitor.store.cases import find_case
from monitor.store.helpdesk_links import links_for_mention, update_link
from monitor.store.mentions import import_mentions
from monitor.store.triage import history
from tests.factories import mention
from tests.helpdesk.conftest import CREATE_PATH, RESPONDER, Desk, Store, account
from tests.helpdesk.fakes import CHATWOOT, TOKEN, FakeChatwoot, document

URLS = {
    "chatwoot": "/app/accounts/1/conversations/500",
    "zammad": "/#ticket/zoom/19",
    "freescout": "/conversation/35",
}


def test_a_case_is_handed_over_with_its_text_link_scores_and_author(store: Store, desk: Desk) -> None:
    mention_id = store.ids["appstore"]
    link = send_to_helpdesk(store.engine, mention_id, desk.client, "rick", RESPONDER)

    assert link.state == "sent" and link.attempts == 1
    assert link.remote_url == desk.fake.server.url + URLS[desk.name]
    (create,) = desk.fake.creates(CREATE_PATH[desk.name])
    sent = create.body.decode()
    for fact in (
        "Acme lost all my notes",
        "refund_ann",
        "https://apps.apple.com/us/app/id1",
        "negative 0.93",
    ):
        assert fact in sent
    assert link.marker in sent
    # Each request as its API documents it (the files fakes.py names).
    body = create.json()
    if desk.name == "chatwoot":
        assert (body["inbox_id"], body["contact_id"], body["status"]) == (7, 100, "open")
        assert body["additional_attributes"]["grumble_ref"] == link.marker and body["source_id"]
    elif desk.name == "zammad":
        assert (body["group"], body["customer_id"]) == ("Social", "guess:social@acme.example")
        assert (body["article"]["type"], body["article"]["internal"]) == ("note", False)
        assert link.marker in body["title"]
    else:
        assert (body["type"], body["mailboxId"], body["imported"]) == ("email", 1, True)
        assert body["customer"]["email"] == "social@acme.example"
        assert [thread["type"] for thread in body["threads"]] == ["customer"]
        assert link.marker in body["subject"]
    # The case the helpdesk's status comes back to was opened, and the trail says where it went.
    case = find_case(store.engine, mention_id)
    assert case is not None and case.status == "new"
    events = [
        (e.action, e.after, e.note) for e in history(store.engine, mention_id) if e.action == "helpdesk"
    ]
    assert events[-1] == ("helpdesk", f"{desk.name} sent", link.remote_url)


def test_sending_again_changes_nothing(store: Store, chatwoot_desk: Desk) -> None:
    desk = chatwoot_desk
    first = send_to_helpdesk(store.engine, store.ids["appstore"], desk.client, "rick", RESPONDER)
    requests = len(desk.fake.server.requests)
    again = send_to_helpdesk(store.engine, store.ids["appstore"], desk.client, "sam", RESPONDER)
    assert again == first
    assert len(desk.fake.server.requests) == requests


def test_a_retry_after_a_lost_answer_finds_the_conversation_instead_of_creating_a_second(
    store: Store, desk: Desk
) -> None:
    mention_id = store.ids["appstore"]
    desk.fake.late_creates = 1  # the helpdesk creates it, the answer comes after our timeout
    lost = send_to_helpdesk(store.engine, mention_id, desk.client, "rick", RESPONDER)
    assert lost.state == "unconfirmed" and lost.remote_id is None
    assert "may have been created" in (lost.error or "")
    assert lost.next_attempt_at is not None  # the scheduler will look again after the backoff
    assert len(desk.fake.created) == 1

    found = send_to_helpdesk(store.engine, mention_id, desk.client, "rick", RESPONDER)
    assert found.state == "sent" and found.attempts == 2
    assert found.remote_url == desk.fake.server.url + URLS[desk.name]
    assert desk.creates() == 1 and len(desk.fake.created) == 1
    notes = [e.note for e in history(store.engine, mention_id) if e.action == "helpdesk"]
    assert "found on the helpdesk; not created again" in notes


def test_a_crash_between_request_and_record_is_settled_by_finding(store: Store, chatwoot_desk: Desk) -> None:
    desk = chatwoot_desk
    mention_id = store.ids["appstore"]
    now = utcnow()
    desk.fake.late_creates = 1
    send_to_helpdesk(store.engine, mention_id, desk.client, "rick", RESPONDER, now=now)
    # Left "sending" by a process that died after the request: another click is refused while the
    # lease runs, then looks on the helpdesk first.
    (link,) = links_for_mention(store.engine, mention_id)
    with store.engine.begin() as connection:
        update_link(connection, link.id, state="sending", claimed_at=now)
    with pytest.raises(HelpdeskBusy, match="being sent"):
        send_to_helpdesk(
            store.engine, mention_id, desk.client, "sam", RESPONDER, now=now + timedelta(minutes=1)
        )
    settled = send_to_helpdesk(
        store.engine, mention_id, desk.client, "sam", RESPONDER, now=now + SENDING_LEASE
    )
    assert settled.state == "sent" and desk.creates() == 1


def test_a_refused_token_fails_with_what_to_fix_and_waits_for_a_person(
    store: Store, desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = type(desk.client)(account(desk.name, desk.fake.server.url, token="wrong-token-9876543"), None)  # type: ignore[call-arg]
    link = send_to_helpdesk(store.engine, store.ids["appstore"], wrong, "rick", RESPONDER)
    assert link.state == "failed"
    assert "HTTP 401" in (link.error or "") and "token_env" in (link.error or "")
    assert link.next_attempt_at is None
    assert "wrong-token-9876543" not in (link.error or "") + caplog.text
    assert desk.fake.created == []
    # Fixed, it goes at once, without looking for anything first (nothing was created).
    fixed = send_to_helpdesk(store.engine, store.ids["appstore"], desk.client, "rick", RESPONDER)
    assert fixed.state == "sent" and fixed.attempts == 2


def test_chatwoot_reuses_the_authors_contact(store: Store, chatwoot_desk: Desk) -> None:
    fake, client = chatwoot_desk.fake, chatwoot_desk.client
    assert isinstance(fake, FakeChatwoot)
    send_to_helpdesk(store.engine, store.ids["appstore"], client, "rick", RESPONDER)
    # Another mention by the same author: found by our identifier, given a contact inbox of its own.
    import_mentions(
        store.engine, "acme", [mention(9, source="appstore", external_id="review-2", author="refund_ann")]
    )
    second_id = max(store.ids.values()) + 1
    send_to_helpdesk(store.engine, second_id, client, "rick", RESPONDER)
    assert len(fake.contacts) == 1
    (inbox,) = fake.creates(f"{FakeChatwoot.PREFIX}/contacts/100/contact_inboxes")
    assert inbox.json()["inbox_id"] == FakeChatwoot.INBOX
    assert [c["contact_inbox"]["contact_id"] for c in fake.created] == [100, 100]
    assert all(r.headers["api_access_token"] == TOKEN for r in fake.server.requests)


def test_chatwoots_requests_match_its_swagger(store: Store, chatwoot_desk: Desk) -> None:
    """What we send validates against the request schemas of the swagger subset in the payload folder."""
    spec = document(
        CHATWOOT / "schema_application-swagger_contacts-conversations-messages-webhooks-subset_DERIVED.json"
    )
    paths = spec["paths"]
    schemas = {
        f"{FakeChatwoot.PREFIX}/contacts": paths["/api/v1/accounts/{account_id}/contacts"]["post"],
        f"{FakeChatwoot.PREFIX}/conversations": paths["/api/v1/accounts/{account_id}/conversations"]["post"],
        f"{FakeChatwoot.PREFIX}/contacts/100/contact_inboxes": paths[
            "/api/v1/accounts/{account_id}/contacts/{id}/contact_inboxes"
        ]["post"],
    }
    send_to_helpdesk(store.engine, store.ids["appstore"], chatwoot_desk.client, "rick", RESPONDER)
    import_mentions(
        store.engine, "acme", [mention(9, source="appstore", external_id="review-2", author="refund_ann")]
    )
    send_to_helpdesk(store.engine, max(store.ids.values()) + 1, chatwoot_desk.client, "rick", RESPONDER)
    checked = set()
    for request in chatwoot_desk.fake.server.requests:
        if request.method != "POST":
            continue
        schema = schemas[request.path]["requestBody"]["content"]["application/json"]["schema"]
        validator = jsonschema.Draft202012Validator({**schema, "components": spec["components"]})
        validator.validate(request.json())
        checked.add(request.path)
    assert checked == set(schemas)
