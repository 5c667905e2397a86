"""Replies through the API go through the case panel's own calls (respond/workflow.py): the approval
rules, and posting exactly once to the source (the Mastodon fake on a loopback server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from monitor.config import ReplyTemplate, ResponderSettings
from monitor.respond.workflow import Repliers
from tests.api.conftest import Api, make_api, one_case, unconfigured
from tests.respond.fakes import FakeMastodon
from tests.support.http_replay import ReplayServer


@pytest.fixture
def posting(sqlite_engine: Engine, replay_server: ReplayServer) -> Iterator[tuple[Api, FakeMastodon]]:
    fake = FakeMastodon(replay_server)
    source = fake.source()
    repliers = Repliers(lambda name: source if name == "mastodon" else unconfigured(name))
    api = make_api(
        sqlite_engine, responder=ResponderSettings(approval_roles=("responder",)), repliers=repliers
    )
    with api.client:
        yield api, fake


def test_a_responder_s_reply_waits_for_an_admin_then_is_posted_once(
    posting: tuple[Api, FakeMastodon],
) -> None:
    api, fake = posting
    case = one_case(api)
    submitted = api.call("POST", f"/cases/{case}/reply/submit", "responder", json={"text": "Sorry, fixed."})
    assert submitted.json()["happened"] == "awaiting_approval" and fake.posts() == []
    reply = submitted.json()["reply"]["id"]
    refused = api.call("POST", f"/cases/{case}/replies/{reply}/approve", "responder")
    assert refused.status_code == 409 and refused.json()["detail"].startswith("Nothing was done:")
    approved = api.call("POST", f"/cases/{case}/replies/{reply}/approve", "admin")
    assert approved.status_code == 200, approved.text
    assert approved.json()["happened"] == "posted" and len(fake.posts()) == 1
    assert approved.json()["reply"]["remote_url"].startswith("https://social.example/@grumble_bot/")
    again = api.call("POST", f"/cases/{case}/replies/{reply}/post", "admin")
    assert again.status_code == 409 and len(fake.posts()) == 1
    assert api.get(f"/cases/{case}").json()["status"] == "replied"


def test_a_reply_can_start_from_a_template(sqlite_engine: Engine) -> None:
    templates = (ReplyTemplate(name="sorry", text="Sorry {author}, {brand} is on it."),)
    api = make_api(sqlite_engine, templates=templates)
    with api.client:
        case = one_case(api)
        mention_id = api.get(f"/cases/{case}").json()["mention_id"]
        author = api.get(f"/mentions/{mention_id}").json()["mention"]["author"]
        saved = api.call("POST", f"/cases/{case}/reply/draft", json={"template": "sorry"})
        assert saved.status_code == 200, saved.text
        assert saved.json()["reply"]["text"] == f"Sorry {author}, Acme is on it."
        unknown = api.call("POST", f"/cases/{case}/reply/draft", json={"template": "nope"})
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "template"
