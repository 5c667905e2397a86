"""Replies to Google Play and Business Profile reviews through the case machinery (case, draft, approval,
posting exactly once), against the fake Google APIs of tests/sources/google_fakes.py on loopback.

The reviews are collected by the real sources from the fakes and stored, so the reply is addressed from
what the store keeps (the review's package or resource name in its raw data), as in production.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from monitor.errors import ReplyTooLong
from monitor.mention import Watch, utcnow
from monitor.respond.cases import open_case
from monitor.respond.posting import post_reply, settle_unconfirmed
from monitor.respond.replies import measure, save_draft, submit_reply
from monitor.sources.base import Replier, SourceSettings
from monitor.sources.google_business import GoogleBusinessSource
from monitor.sources.google_play import GooglePlaySource
from monitor.sources.http import build_client
from monitor.sources.quota import MemoryQuotaLedger
from monitor.store.cases import CaseReply, find_case
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.respond.conftest import ADMIN, SETTINGS
from tests.sources.fakes import load_fixture
from tests.sources.google_fakes import (
    ACCOUNT,
    LOCATION,
    OAUTH,
    PACKAGE,
    SERVICE_ACCOUNT_JSON,
    FakeGoogleBusiness,
    FakeGooglePlay,
)
from tests.support.http_replay import ReplayServer

TEXT = "Sorry about this, Dana. Version 4.2.1 fixes the logout bug; write to help@acme.example if it stays."


def play(
    server: ReplayServer, timeout_s: float = 5.0, **options: Any
) -> tuple[FakeGooglePlay, GooglePlaySource]:
    fake = FakeGooglePlay(server)
    fake.reviews = load_fixture("google_play")["items"]
    settings = SourceSettings(
        "google_play",
        base_url=server.url,
        timeout_s=timeout_s,
        options={"service_account_json": SERVICE_ACCOUNT_JSON, "token_url": f"{server.url}/token", **options},
    )
    source = GooglePlaySource(settings, build_client(settings, server.url), ledger=MemoryQuotaLedger())
    return fake, source


def business(server: ReplayServer, timeout_s: float = 5.0) -> tuple[FakeGoogleBusiness, GoogleBusinessSource]:
    fake = FakeGoogleBusiness(server)
    fake.reviews = load_fixture("google_business")["items"]
    settings = SourceSettings(
        "google_business",
        base_url=server.url,
        timeout_s=timeout_s,
        options={**OAUTH, "token_url": f"{server.url}/token"},
    )
    return fake, GoogleBusinessSource(settings, build_client(settings, server.url))


WATCH = Watch(
    name="acme",
    sources={
        "google_play": {"package_names": [PACKAGE]},
        "google_business": {"locations": [f"accounts/{ACCOUNT}/locations/{LOCATION}"]},
    },
)

FAKES: dict[str, Callable[..., tuple[Any, Any]]] = {"google_play": play, "google_business": business}


def collected(engine: Engine, source: Any) -> int:
    """Collect the newest review with the real source, store it, and return its stored id."""
    page = source.fetch(WATCH, None)
    import_mentions(engine, "acme", page.mentions[:1])
    (row,) = [r for r in iter_all(engine, MentionFilter()) if r["source"] == source.name]
    return int(row["id"])


def approved(engine: Engine, mention_id: int, text: str, replier: Replier) -> CaseReply:
    case = open_case(engine, mention_id, ADMIN.name, SETTINGS)
    draft = save_draft(engine, case.id, text, ADMIN)
    reply = submit_reply(engine, draft.id, ADMIN, SETTINGS, measure(draft.source, text, replier))
    assert reply.status == "approved"
    return reply


def test_a_play_reply_is_posted_to_the_review_and_the_case_replied(
    engine: Engine, replay_server: ReplayServer
) -> None:
    fake, source = play(replay_server)
    mention_id = collected(engine, source)
    posted = post_reply(engine, approved(engine, mention_id, TEXT, source).id, ADMIN, source)

    (post,) = fake.posts()
    assert post.json() == {"replyText": TEXT}
    assert post.path.endswith("/reviews/gp%3AAOqpTOacme0000:reply")
    assert posted.status == "posted" and posted.remote_id == "gp:AOqpTOacme0000"
    assert (
        posted.remote_url
        == f"https://play.google.com/store/apps/details?id={PACKAGE}&reviewId=gp%3AAOqpTOacme0000"
    )
    case = find_case(engine, mention_id)
    assert case is not None and case.status == "replied"


def test_a_business_reply_is_put_on_the_review(engine: Engine, replay_server: ReplayServer) -> None:
    fake, source = business(replay_server)
    mention_id = collected(engine, source)
    posted = post_reply(engine, approved(engine, mention_id, TEXT, source).id, ADMIN, source)

    (put,) = fake.posts()
    assert put.json() == {"comment": TEXT}
    assert put.path == f"/v4/accounts/{ACCOUNT}/locations/{LOCATION}/reviews/AbFvOqacme0000/reply"
    assert posted.status == "posted"
    assert posted.remote_id == f"accounts/{ACCOUNT}/locations/{LOCATION}/reviews/AbFvOqacme0000/reply"


@pytest.mark.parametrize("name", sorted(FAKES))
def test_a_timeout_after_google_saved_the_reply_never_posts_twice(
    name: str, engine: Engine, replay_server: ReplayServer
) -> None:
    fake, source = FAKES[name](replay_server, timeout_s=0.5)
    reply = approved(engine, collected(engine, source), TEXT, source)
    fake.slow_s = 2.0  # Google saves the reply, then answers after the client gave up

    first = post_reply(engine, reply.id, ADMIN, source)
    assert first.status == "unconfirmed", first.error
    assert len(fake.saved) == 1

    fake.slow_s = 0.0
    retried = post_reply(engine, reply.id, ADMIN, source, now=utcnow() + timedelta(minutes=1))
    assert retried.status == "posted"
    assert len(fake.posts()) == 1, "the retry found the reply (reviews.get) and did not post again"


@pytest.mark.parametrize("name", sorted(FAKES))
def test_the_scheduler_settles_an_unconfirmed_google_reply(
    name: str, engine: Engine, replay_server: ReplayServer
) -> None:
    fake, source = FAKES[name](replay_server, timeout_s=0.5)
    reply = approved(engine, collected(engine, source), TEXT, source)
    fake.slow_s = 2.0
    assert post_reply(engine, reply.id, ADMIN, source).status == "unconfirmed"
    fake.slow_s = 0.0

    (settled,) = settle_unconfirmed(
        engine, lambda n: source if n == name else None, now=utcnow() + timedelta(minutes=1)
    )
    assert settled.status == "posted" and len(fake.posts()) == 1


def test_a_play_reply_over_350_characters_cannot_be_submitted(
    engine: Engine, replay_server: ReplayServer
) -> None:
    fake, source = play(replay_server)
    case = open_case(engine, collected(engine, source), ADMIN.name, SETTINGS)
    draft = save_draft(engine, case.id, "x" * 351, ADMIN)
    with pytest.raises(ReplyTooLong, match="351 / 350 characters"):
        submit_reply(engine, draft.id, ADMIN, SETTINGS, measure(draft.source, draft.text, source))
    assert fake.posts() == []


def test_a_play_reply_over_the_days_quota_fails_with_the_reason_and_keeps_the_draft(
    engine: Engine, replay_server: ReplayServer
) -> None:
    fake, source = play(replay_server, replies_per_day=1)
    source._replies(PACKAGE).spend(1, "an earlier reply today")
    failed = post_reply(engine, approved(engine, collected(engine, source), TEXT, source).id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "rate_limited"
    assert "quota reached" in (failed.error or "") and failed.text == TEXT
    assert fake.posts() == []
