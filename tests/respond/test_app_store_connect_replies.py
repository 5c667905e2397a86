"""Answering App Store reviews through the case machinery: POST /v1/customerReviewResponses exactly once,
answering again replaces the response, and the case follows Apple from "pending" to "published".

The App Store Connect side is tests/sources/app_store_connect_fake.py on loopback (built from Apple's
documented example and schema: no recording of these calls exists); it verifies every request's JWT.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.errors import ReplyStateError, ReplyTooLong
from monitor.mention import utcnow
from monitor.respond.cases import open_case
from monitor.respond.history import event_sentence
from monitor.respond.posting import post_reply, settle_unconfirmed
from monitor.respond.remote_state import refresh_remote_states, remote_state_label
from monitor.respond.replies import measure, save_draft, submit_reply
from monitor.sources.base import Replier, ReplyTarget
from monitor.sources.registry import reply_blocker
from monitor.store.cases import CaseReply, find_case, load_reply
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from monitor.store.schema import case_replies
from monitor.store.triage import history
from tests.factories import mention
from tests.respond.conftest import ADMIN, SETTINGS, Store, set_priority
from tests.sources.app_store_connect_fake import APP_ID, FakeAppStoreConnect, review
from tests.support.http_replay import ReplayServer, Reply

REVIEW_ID = "00000028-b08c-0014-729e-fbd500000000"
APP_URL = f"https://apps.apple.com/app/id{APP_ID}?see-all=reviews"
TEXT = "Hi Anne, sorry about the lost notes: version 4.2.1 restores them. Thanks for telling us."
KEY = "asc"


@pytest.fixture
def fake(replay_server: ReplayServer) -> FakeAppStoreConnect:
    fake = FakeAppStoreConnect(replay_server)
    fake.reviews.append(review(REVIEW_ID, "2026-11-01T05:00:00-07:00", "Acme lost my notes", nickname="Anne"))
    return fake


@pytest.fixture
def asc_store(store: Store) -> Store:
    import_mentions(
        store.engine,
        "acme",
        [
            mention(
                6,
                source="app_store_connect",
                external_id=REVIEW_ID,
                author="Anne",
                text="Acme lost my notes",
                title="Lost notes",
                url=APP_URL,
                rating=1,
                created_at=utcnow() - timedelta(minutes=3),
            )
        ],
    )
    row = next(r for r in iter_all(store.engine, MentionFilter()) if r["source"] == "app_store_connect")
    set_priority(store.engine, row["id"], 1.0)
    store.ids[KEY] = row["id"]
    return store


def approved(store: Store, text: str, replier: Replier) -> CaseReply:
    case = open_case(store.engine, store.ids[KEY], ADMIN.name, SETTINGS)
    draft = save_draft(store.engine, case.id, text, ADMIN)
    reply = submit_reply(store.engine, draft.id, ADMIN, SETTINGS, measure(draft.source, text, replier))
    assert reply.status == "approved"
    return reply


def test_a_reply_is_one_post_of_a_customer_review_response_and_the_case_shows_it_pending(
    asc_store: Store, fake: FakeAppStoreConnect
) -> None:
    source = fake.source()
    posted = post_reply(asc_store.engine, approved(asc_store, TEXT, source).id, ADMIN, source)

    (post,) = fake.posts()
    assert post.json() == {
        "data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": TEXT},
            "relationships": {"review": {"data": {"type": "customerReviews", "id": REVIEW_ID}}},
        }
    }
    assert post.headers["authorization"].startswith("Bearer ") and len(fake.claims) == 1
    assert posted.status == "posted" and posted.remote_id == "resp-1" and posted.remote_url == APP_URL
    assert posted.remote_state == "pending"
    assert remote_state_label(posted.source, posted.remote_state) == "pending Apple's review"
    case = find_case(asc_store.engine, asc_store.ids[KEY])
    assert case is not None and case.status == "replied" and case.first_response_at is not None


def test_pending_then_published_is_recorded_by_the_settle_job_once(
    asc_store: Store, fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    source = fake.source()
    reply = post_reply(asc_store.engine, approved(asc_store, TEXT, source).id, ADMIN, source)

    def repliers(name: str) -> Replier | None:
        return source if name == "app_store_connect" else None

    assert refresh_remote_states(asc_store.engine, repliers) == []  # still pending at Apple
    assert load_reply(asc_store.engine, reply.id).remote_state == "pending"
    fake.publish(REVIEW_ID)
    (changed,) = refresh_remote_states(asc_store.engine, repliers)
    assert changed.id == reply.id and changed.remote_state == "published"
    assert remote_state_label("app_store_connect", changed.remote_state) == "published"
    events = history(asc_store.engine, asc_store.ids[KEY])
    assert [(e.action, e.before, e.after, e.actor) for e in events][-1] == (
        "reply_state",
        "pending",
        "published",
        "scheduler",
    )
    assert event_sentence(events[-1]) == "scheduler saw the store mark the reply published."
    asked = len(replay_server.requests)
    assert refresh_remote_states(asc_store.engine, repliers) == []  # published is final: not asked again
    assert len(replay_server.requests) == asked
    assert len(fake.posts()) == 1  # it only ever looked


def test_answering_again_replaces_the_response_with_one_post_and_no_delete(
    asc_store: Store, fake: FakeAppStoreConnect, replay_server: ReplayServer
) -> None:
    source = fake.source()
    first = post_reply(
        asc_store.engine, approved(asc_store, "Sorry, we are on it.", source).id, ADMIN, source
    )
    fake.publish(REVIEW_ID)
    second = post_reply(asc_store.engine, approved(asc_store, TEXT, source).id, ADMIN, source)

    assert [p.json()["data"]["attributes"]["responseBody"] for p in fake.posts()] == [
        "Sorry, we are on it.",
        TEXT,
    ]
    assert not [r for r in replay_server.requests if r.method == "DELETE"]
    assert fake.responses[REVIEW_ID]["attributes"] == {
        "responseBody": TEXT,
        "lastModifiedDate": "2026-11-01T12:00:00-07:00",
        "state": "PENDING_PUBLISH",  # Apple reviews the new text again
    }
    assert second.status == "posted" and second.remote_id == first.remote_id
    assert second.remote_state == "pending"
    # The first reply's text is no longer on the App Store: the settle job says so on the case.
    with asc_store.engine.begin() as connection:
        connection.execute(
            case_replies.update().where(case_replies.c.id == first.id).values(remote_state="pending")
        )
    refresh_remote_states(asc_store.engine, lambda _name: source)
    assert load_reply(asc_store.engine, first.id).remote_state == "replaced"
    assert load_reply(asc_store.engine, second.id).remote_state == "pending"


def test_a_timeout_after_apple_took_the_response_never_posts_twice(
    asc_store: Store, fake: FakeAppStoreConnect
) -> None:
    source = fake.source(timeout_s=0.5)
    reply = approved(asc_store, TEXT, source)
    fake.slow_s = 2.0  # Apple stores the response, then answers after the client gave up

    first = post_reply(asc_store.engine, reply.id, ADMIN, source)
    assert first.status == "unconfirmed" and "Apple may have taken the response" in (first.error or "")
    assert len(fake.posts()) == 1 and REVIEW_ID in fake.responses

    fake.slow_s = 0.0
    retried = post_reply(asc_store.engine, reply.id, ADMIN, source, now=utcnow() + timedelta(minutes=1))
    assert retried.status == "posted" and retried.remote_id == "resp-1" and retried.remote_state == "pending"
    assert len(fake.posts()) == 1, "the retry found the response (GET .../response) and did not post again"
    assert fake.server.requests_to(f"/v1/customerReviews/{REVIEW_ID}/response")


def test_the_scheduler_records_an_unconfirmed_response_that_landed(
    asc_store: Store, fake: FakeAppStoreConnect
) -> None:
    source = fake.source(timeout_s=0.5)
    reply = approved(asc_store, TEXT, source)
    fake.slow_s = 2.0
    assert post_reply(asc_store.engine, reply.id, ADMIN, source).status == "unconfirmed"
    fake.slow_s = 0.0
    (settled,) = settle_unconfirmed(
        asc_store.engine, lambda _name: source, now=utcnow() + timedelta(minutes=1)
    )
    assert settled.status == "posted" and settled.remote_state == "pending"
    assert len(fake.posts()) == 1


def test_a_retry_that_finds_another_text_posts_its_own(asc_store: Store, fake: FakeAppStoreConnect) -> None:
    """find_reply compares the text: a response someone else left is not taken for ours."""
    source = fake.source(timeout_s=0.5)
    reply = approved(asc_store, TEXT, source)
    fake.refuse = Reply(503, b"upstream", {"Content-Type": "text/plain"})
    assert post_reply(asc_store.engine, reply.id, ADMIN, source).status == "unconfirmed"
    fake.refuse = None
    # Meanwhile a colleague answered in App Store Connect.
    source.reply(ReplyTarget("app_store_connect", REVIEW_ID, url=APP_URL), "A colleague's answer", "other")
    done = post_reply(asc_store.engine, reply.id, ADMIN, source, now=utcnow() + timedelta(minutes=1))
    assert done.status == "posted"
    assert fake.responses[REVIEW_ID]["attributes"]["responseBody"] == TEXT


@pytest.mark.both_databases
def test_a_double_click_posts_once(asc_store: Store, fake: FakeAppStoreConnect) -> None:
    source = fake.source()
    reply = approved(asc_store, TEXT, source)
    fake.slow_s = 0.3  # both clicks are in flight together
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click() -> None:
        barrier.wait()
        try:
            outcomes.append(post_reply(asc_store.engine, reply.id, ADMIN, source).status)
        except ReplyStateError as exc:
            outcomes.append(f"refused: {exc}")

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes)[0] == "posted" and "being posted" in sorted(outcomes)[1]
    assert len(fake.posts()) == 1


def test_a_409_is_a_refusal_with_apples_detail_and_keeps_the_draft(
    asc_store: Store, fake: FakeAppStoreConnect
) -> None:
    source = fake.source()
    reply = approved(asc_store, TEXT, source)
    detail = "The response body contains a URL that is not allowed."
    fake.refuse = Reply.json(
        {
            "errors": [
                {
                    "status": "409",
                    "code": "ENTITY_ERROR",
                    "title": "The request entity is not valid.",
                    "detail": detail,
                }
            ]
        },
        409,
    )
    failed = post_reply(asc_store.engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "rejected"
    assert "ENTITY_ERROR" in (failed.error or "") and detail in (failed.error or "")
    assert failed.text == TEXT and len(fake.posts()) == 1


def test_unaccepted_agreements_fail_the_post_with_what_to_do(
    asc_store: Store, fake: FakeAppStoreConnect
) -> None:
    source = fake.source()
    reply = approved(asc_store, TEXT, source)
    fake.refuse = Reply.json(
        {
            "errors": [
                {
                    "status": "403",
                    "code": "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
                    "title": "A required agreement is missing or has expired.",
                    "detail": "This request requires an in-effect agreement that has not been signed or has "
                    "expired.",
                }
            ]
        },
        403,
    )
    failed = post_reply(asc_store.engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "auth"
    assert "accept the latest agreements in App Store Connect" in (failed.error or "")


def test_a_refused_key_fails_the_post_naming_the_settings(
    asc_store: Store, fake: FakeAppStoreConnect
) -> None:
    from tests.sources.app_store_connect_fake import new_key, p8_text

    source = fake.source(private_key=p8_text(new_key()))  # not the key App Store Connect knows
    reply = approved(asc_store, TEXT, source)
    failed = post_reply(asc_store.engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "auth"
    assert "NOT_AUTHORIZED" in (failed.error or "") and "GRUMBLE_APP_STORE_CONNECT_PRIVATE_KEY" in (
        failed.error or ""
    )
    assert "PRIVATE KEY" not in (failed.error or "") and fake.responses == {}


def test_over_apples_limit_is_refused_before_anything_is_sent(
    asc_store: Store, fake: FakeAppStoreConnect
) -> None:
    source = fake.source()
    case = open_case(asc_store.engine, asc_store.ids[KEY], ADMIN.name, SETTINGS)
    text = "x" * 5969 + "👍"  # 5,970 characters a reader sees; Apple's systems count 5,971
    draft = save_draft(asc_store.engine, case.id, text, ADMIN)
    length = measure("app_store_connect", text, source)
    assert (length.count, length.limit, length.ok) == (5971, 5970, False)
    with pytest.raises(ReplyTooLong):
        submit_reply(asc_store.engine, draft.id, ADMIN, SETTINGS, length)
    assert source.measure("x" * 5970).ok and fake.posts() == []


def test_without_a_key_the_reply_is_copied_by_hand(fake: FakeAppStoreConnect) -> None:
    source = fake.source(issuer_id="", private_key=None)
    assert isinstance(source, Replier)
    blocker = reply_blocker(source, REVIEW_ID)
    assert blocker is not None and "issuer_id" in blocker and "private_key_file (or private_key)" in blocker
    assert reply_blocker(fake.source(), REVIEW_ID) is None


def test_remote_state_is_stored_only_where_the_source_says_it(
    asc_store: Store, replay_server: ReplayServer
) -> None:
    from tests.respond.conftest import approved as approved_for
    from tests.respond.fakes import FakeMastodon

    masto = FakeMastodon(replay_server)
    posted = post_reply(
        asc_store.engine,
        approved_for(asc_store, "mastodon", "Sorry!", masto.source()).id,
        ADMIN,
        masto.source(),
    )
    assert posted.status == "posted" and posted.remote_state is None
    assert remote_state_label("mastodon", None) is None
    with asc_store.engine.connect() as connection:
        assert connection.execute(select(case_replies.c.remote_state)).scalars().all() == [None]
