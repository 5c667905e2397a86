"""Posting replies against loopback servers that record what they receive (the claims on PostgreSQL too):
the right endpoint and body per source, exactly once through timeouts, double clicks and crashes, and
failures that keep the draft with the reason."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitor.errors import ReplyStateError, ReplyTooLong
from monitor.mention import utcnow
from monitor.respond.cases import open_case
from monitor.respond.posting import POSTING_LEASE, SETTLE_FOR, post_reply, settle_unconfirmed
from monitor.respond.replies import measure, save_draft, submit_reply
from monitor.sources.base import PostedReply, Replier, ReplyTarget, TextLength
from monitor.store.cases import find_case, load_reply
from monitor.store.schema import mention_events
from tests.respond.conftest import ADMIN, BLUESKY_ROOT, BLUESKY_URI, MASTODON_ID, SETTINGS, Store, approved
from tests.respond.fakes import BOT, DID, HANDLE, FakeApi, FakeBluesky, FakeMastodon, FakeReddit
from tests.support.http_replay import ReplayServer

TEXT = "Hi angry_ann, sorry about this & thanks for telling us: https://acme.example/help"


def events(store: Store, key: str) -> list[tuple[str, str | None, str | None, str]]:
    query = (
        select(
            mention_events.c.action, mention_events.c.before, mention_events.c.after, mention_events.c.actor
        )
        .where(mention_events.c.mention_id == store.ids[key])
        .order_by(mention_events.c.id)
    )
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]  # type: ignore[misc]


# --- endpoint and body per source -------------------------------------------------------------------------


def test_reddit_reply_goes_through_praw_to_api_comment(store: Store, replay_server: ReplayServer) -> None:
    fake = FakeReddit(replay_server)
    source = fake.source()
    reply = approved(store, "reddit", TEXT, source)
    posted = post_reply(store.engine, reply.id, ADMIN, source)

    token = replay_server.requests_to("/api/v1/access_token")[0].form()
    assert token["grant_type"] == "password" and token["username"] == BOT
    (post,) = fake.posts()
    form = post.form()
    assert form["thing_id"] == "t1_cust1" and form["text"] == TEXT and form["api_type"] == "json"
    assert post.headers["authorization"] == "bearer fake-token"
    assert posted.status == "posted" and posted.remote_id == "t1_r1"
    assert posted.remote_url == "https://www.reddit.com/r/acme/comments/sub1/_/r1/"
    case = find_case(store.engine, store.ids["reddit"])
    assert case is not None and case.status == "replied" and case.first_response_at is not None
    assert ("reply_posting", "approved", "posting", "sam") in events(store, "reddit")
    assert ("reply_posted", "posting", "posted", "sam") in events(store, "reddit")


def test_a_reddit_answer_without_permalink_still_gives_the_reply_its_url(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeReddit(replay_server)
    fake.with_permalinks = False
    posted = post_reply(store.engine, approved(store, "reddit", TEXT, fake.source()).id, ADMIN, fake.source())
    assert posted.status == "posted" and posted.remote_url == "https://www.reddit.com/comments/sub1/_/r1/"


def test_reddit_reply_to_a_submission_uses_its_t3_fullname(store: Store, replay_server: ReplayServer) -> None:
    fake = FakeReddit(replay_server)
    source = fake.source()
    reply = approved(store, "reddit_post", "We are on it.", source)
    post_reply(store.engine, reply.id, ADMIN, source)
    assert fake.posts()[0].form()["thing_id"] == "t3_sub1"


def test_mastodon_reply_posts_in_reply_to_with_idempotency_key(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server)
    source = fake.source()
    reply = approved(store, "mastodon", TEXT, source)
    posted = post_reply(store.engine, reply.id, ADMIN, source)

    (post,) = fake.posts()
    assert post.json() == {"status": TEXT, "in_reply_to_id": MASTODON_ID, "visibility": "public"}
    assert post.headers["idempotency-key"] == reply.idempotency_key
    assert post.headers["authorization"] == "Bearer masto-token"
    assert posted.status == "posted" and posted.remote_id == "200001"
    assert posted.remote_url == f"https://social.example/@{BOT}/200001"


def test_bluesky_reply_creates_a_post_record_with_root_and_parent(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeBluesky(replay_server)
    source = fake.source()
    reply = approved(store, "bluesky", TEXT, source)
    posted = post_reply(store.engine, reply.id, ADMIN, source)

    assert (
        replay_server.requests_to("/xrpc/com.atproto.server.createSession")[0].json()["identifier"] == HANDLE
    )
    (post,) = fake.posts()
    body = post.json()
    assert post.headers["authorization"] == "Bearer jwt-1"
    assert body["repo"] == DID and body["collection"] == "app.bsky.feed.post"
    assert body["rkey"] == reply.idempotency_key
    record = body["record"]
    assert (
        record["$type"] == "app.bsky.feed.post"
        and record["text"] == TEXT
        and record["createdAt"].endswith("Z")
    )
    assert record["reply"] == {"root": BLUESKY_ROOT, "parent": {"uri": BLUESKY_URI, "cid": "bafyreiacme0"}}
    link = "https://acme.example/help"
    start = len(TEXT[: TEXT.index(link)].encode())
    assert record["facets"][0]["index"] == {"byteStart": start, "byteEnd": start + len(link)}
    assert posted.remote_id == f"at://{DID}/app.bsky.feed.post/{reply.idempotency_key}"
    assert posted.remote_url == f"https://bsky.app/profile/{HANDLE}/post/{reply.idempotency_key}"


def test_bluesky_looks_up_the_parent_cid_when_the_stored_post_lacks_it(
    store: Store, replay_server: ReplayServer
) -> None:
    from sqlalchemy import update

    from monitor.store.schema import mentions

    with store.engine.begin() as connection:
        connection.execute(update(mentions).where(mentions.c.id == store.ids["bluesky"]).values(raw=None))
    fake = FakeBluesky(replay_server)
    fake.posts_by_uri[BLUESKY_URI] = {"uri": BLUESKY_URI, "cid": "bafyfetched", "record": {"text": "x"}}
    source = fake.source()
    post_reply(store.engine, approved(store, "bluesky", "Sorry!", source).id, ADMIN, source)
    assert replay_server.requests_to("/xrpc/app.bsky.feed.getPosts")[0].query["uris"] == BLUESKY_URI
    parent = {"uri": BLUESKY_URI, "cid": "bafyfetched"}
    assert fake.posts()[0].json()["record"]["reply"] == {"root": parent, "parent": parent}


# --- exactly once -------------------------------------------------------------------------------------------

SOURCES = {
    "reddit": (FakeReddit, "reddit"),
    "mastodon": (FakeMastodon, "mastodon"),
    "bluesky": (FakeBluesky, "bluesky"),
}


class DiesMidAttempt:
    """A Mastodon replier whose process is killed during its first attempt: before the request
    leaves, or after the server took it but before the result is written."""

    name = "mastodon"

    def __init__(self, source: Replier, *, after_sending: bool) -> None:
        self.source = source
        self.after_sending = after_sending

    def measure(self, text: str) -> TextLength:
        return self.source.measure(text)

    def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        if self.after_sending:
            self.source.reply(target, text, idempotency_key)
        raise KeyboardInterrupt

    def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
        raise AssertionError("not asked on a first attempt")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_a_timeout_after_the_server_accepted_the_post_never_posts_twice(
    name: str, store: Store, replay_server: ReplayServer
) -> None:
    fake_class, key = SOURCES[name]
    fake: Any = fake_class(replay_server)
    source = fake.source(timeout_s=0.5)
    reply = approved(store, key, TEXT, source)
    fake.slow_s = 2.0  # the server publishes the reply, then answers after the client gave up

    first = post_reply(store.engine, reply.id, ADMIN, source)
    assert first.status == "unconfirmed", first.error
    assert "checks" in (first.error or "")
    assert len(fake.published) == 1 and len(fake.posts()) == 1

    # Too soon: the source gets time to show what it published.
    with pytest.raises(ReplyStateError, match="retry after"):
        post_reply(store.engine, reply.id, ADMIN, source)

    fake.slow_s = 0.0
    retried = post_reply(store.engine, reply.id, ADMIN, source, now=utcnow() + timedelta(minutes=1))
    assert retried.status == "posted"
    assert retried.remote_id == fake.published[0].id
    assert len(fake.posts()) == 1, "the retry found the reply and did not post again"
    assert len(fake.published) == 1
    actions = [event[0] for event in events(store, key)]
    # The posted reply moves the case, and the mention is handled with it.
    assert actions[-5:] == ["reply_unconfirmed", "reply_posting", "reply_posted", "status", "triage"]


@pytest.mark.parametrize("server_has_source", [True, False], ids=["status-source", "older-server"])
def test_a_mastodon_reply_naming_someone_at_a_domain_is_found_after_a_timeout(
    store: Store, replay_server: ReplayServer, server_has_source: bool
) -> None:
    fake = FakeMastodon(replay_server)
    fake.has_source_endpoint = server_has_source
    source = fake.source(timeout_s=0.5)
    text = "@sam@mastodon.example sorry about that, we are refunding the double charge today."
    reply = approved(store, "mastodon", text, source)
    fake.slow_s = 2.0
    assert post_reply(store.engine, reply.id, ADMIN, source).status == "unconfirmed"
    fake.slow_s = 0.0
    retried = post_reply(store.engine, reply.id, ADMIN, source, now=utcnow() + timedelta(minutes=1))
    assert retried.status == "posted" and retried.remote_id == fake.published[0].id
    assert len(fake.posts()) == 1  # found where it landed: never posted twice


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_scheduler_records_an_unconfirmed_reply_that_landed_without_posting_again(
    name: str, store: Store, replay_server: ReplayServer
) -> None:
    fake_class, key = SOURCES[name]
    fake: Any = fake_class(replay_server)
    source = fake.source(timeout_s=0.5)
    reply = approved(store, key, TEXT, source)
    fake.slow_s = 2.0
    assert post_reply(store.engine, reply.id, ADMIN, source).status == "unconfirmed"
    fake.slow_s = 0.0
    requests_before = len(replay_server.requests)

    def repliers(source_name: str) -> Replier | None:
        return source if source_name == name else None

    # Too soon to look: the source's listing gets the same grace as a Retry click.
    assert settle_unconfirmed(store.engine, repliers) == []
    assert len(replay_server.requests) == requests_before

    (settled,) = settle_unconfirmed(store.engine, repliers, now=utcnow() + timedelta(minutes=1))
    assert settled.status == "posted" and settled.remote_id == fake.published[0].id
    assert len(fake.posts()) == 1 and len(fake.published) == 1
    assert find_case(store.engine, store.ids[key]).status == "replied"  # type: ignore[union-attr]
    assert events(store, key)[-3:] == [
        ("reply_posted", "unconfirmed", "posted", "scheduler"),
        ("status", "in_progress", "replied", "scheduler"),
        ("triage", "open", "handled", "scheduler"),
    ]
    assert settle_unconfirmed(store.engine, repliers, now=utcnow() + timedelta(minutes=2)) == []


def test_the_scheduler_never_posts_a_reply_it_cannot_find(store: Store, replay_server: ReplayServer) -> None:
    fake = FakeMastodon(replay_server)
    source = fake.source()
    reply = approved(store, "mastodon", TEXT, source)
    with pytest.raises(KeyboardInterrupt):
        post_reply(store.engine, reply.id, ADMIN, DiesMidAttempt(source, after_sending=False))
    later = utcnow() + POSTING_LEASE * 2
    assert settle_unconfirmed(store.engine, lambda _name: source, now=later) == []
    assert replay_server.requests_to(f"/api/v1/statuses/{MASTODON_ID}/context"), "it did look"
    assert fake.posts() == [] and load_reply(store.engine, reply.id).status == "posting"
    # Past the settling window it stops asking; a person's Retry still posts it, once.
    asked = len(replay_server.requests)
    settle_unconfirmed(store.engine, lambda _name: source, now=utcnow() + SETTLE_FOR + POSTING_LEASE)
    assert len(replay_server.requests) == asked
    assert post_reply(store.engine, reply.id, ADMIN, source, now=later).status == "posted"
    assert len(fake.posts()) == 1


def test_a_source_that_cannot_be_asked_leaves_the_reply_as_it_was(
    store: Store, replay_server: ReplayServer
) -> None:
    from monitor.errors import SourceUnavailable

    fake = FakeMastodon(replay_server)
    source = fake.source(timeout_s=0.5)
    reply = approved(store, "mastodon", TEXT, source)
    fake.slow_s = 2.0
    post_reply(store.engine, reply.id, ADMIN, source)

    class Down:
        name = "mastodon"

        def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
            raise SourceUnavailable("mastodon", "HTTP 503")

    later = utcnow() + timedelta(minutes=1)
    assert settle_unconfirmed(store.engine, lambda _name: Down(), now=later) == []  # type: ignore[arg-type,return-value]
    assert load_reply(store.engine, reply.id).status == "unconfirmed"
    assert settle_unconfirmed(store.engine, lambda _name: None, now=later) == []


@pytest.mark.both_databases
def test_a_crash_between_posting_and_recording_is_recovered_without_a_second_post(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server)
    source = fake.source()
    reply = approved(store, "mastodon", TEXT, source)
    with pytest.raises(KeyboardInterrupt):
        post_reply(store.engine, reply.id, ADMIN, DiesMidAttempt(source, after_sending=True))
    assert load_reply(store.engine, reply.id).status == "posting"

    with pytest.raises(ReplyStateError, match="being posted"):
        post_reply(store.engine, reply.id, ADMIN, source)
    later = utcnow() + POSTING_LEASE + timedelta(seconds=1)
    recovered = post_reply(store.engine, reply.id, ADMIN, source, now=later)
    assert recovered.status == "posted" and recovered.remote_id == fake.published[0].id
    assert len(fake.posts()) == 1
    assert replay_server.requests_to(f"/api/v1/statuses/{MASTODON_ID}/context")


def test_a_retry_that_finds_nothing_posts_again_with_the_same_key(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server)
    source = fake.source()
    reply = approved(store, "mastodon", TEXT, source)
    with pytest.raises(KeyboardInterrupt):
        post_reply(store.engine, reply.id, ADMIN, DiesMidAttempt(source, after_sending=False))
    done = post_reply(store.engine, reply.id, ADMIN, source, now=utcnow() + POSTING_LEASE * 2)
    assert done.status == "posted" and done.attempts == 2
    assert [p.headers["idempotency-key"] for p in fake.posts()] == [reply.idempotency_key]


@pytest.mark.both_databases
def test_a_double_click_posts_once(store: Store, replay_server: ReplayServer) -> None:
    fake = FakeMastodon(replay_server)
    source = fake.source()
    reply = approved(store, "mastodon", TEXT, source)
    fake.slow_s = 0.3  # both clicks are in flight together
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click() -> None:
        barrier.wait()
        try:
            outcomes.append(post_reply(store.engine, reply.id, ADMIN, source).status)
        except ReplyStateError as exc:
            outcomes.append(f"refused: {exc}")

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes)[0] == "posted"
    assert "being posted" in sorted(outcomes)[1]
    assert len(fake.posts()) == 1
    assert load_reply(store.engine, reply.id).status == "posted"


@pytest.mark.both_databases
def test_posting_a_posted_reply_again_sends_nothing(store: Store, replay_server: ReplayServer) -> None:
    fake = FakeMastodon(replay_server)
    source = fake.source()
    reply = approved(store, "mastodon", TEXT, source)
    posted = post_reply(store.engine, reply.id, ADMIN, source)
    with pytest.raises(ReplyStateError, match=f"already posted at {posted.remote_url}"):
        post_reply(store.engine, reply.id, ADMIN, source)
    assert len(fake.posts()) == 1


# --- failures keep the draft and say why ----------------------------------------------------------------


def test_an_expired_mastodon_token_fails_the_post_and_keeps_the_draft(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server)
    source = fake.source(token="expired-token")
    reply = approved(store, "mastodon", TEXT, source)
    failed = post_reply(store.engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "auth"
    assert "GRUMBLE_MASTODON_ACCESS_TOKEN" in (failed.error or "") and "write:statuses" in (
        failed.error or ""
    )
    assert failed.text == TEXT
    assert fake.published == []
    assert ("reply_failed", "posting", "failed", "sam") in events(store, "mastodon")
    # The kept draft can be edited and sent again.
    case = find_case(store.engine, store.ids["mastodon"])
    assert case is not None and case.status == "in_progress"
    again = save_draft(store.engine, case.id, TEXT + " (2)", ADMIN)
    assert again.id == reply.id and again.status == "draft"


def test_an_expired_reddit_login_fails_the_post(store: Store, replay_server: ReplayServer) -> None:
    from tests.support.http_replay import Reply

    fake = FakeReddit(replay_server)
    source = fake.source()
    reply = approved(store, "reddit", TEXT, source)
    replay_server.route("POST", "/api/v1/access_token", Reply.json({"error": "invalid_grant"}, 401))
    failed = post_reply(store.engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "auth"
    assert "GRUMBLE_REDDIT" in (failed.error or "")
    assert fake.posts() == []


@pytest.mark.parametrize(
    ("refusal", "kind"),
    [
        (["THREAD_LOCKED", "Comments are locked.", "parent"], "locked"),
        (["TOO_OLD", "that's a piece of history now; it's too late to reply to it", "parent"], "archived"),
    ],
)
def test_a_locked_or_archived_reddit_thread_fails_with_the_reason(
    refusal: list[str], kind: str, store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeReddit(replay_server)
    fake.refuse = refusal
    source = fake.source()
    reply = approved(store, "reddit", TEXT, source)
    failed = post_reply(store.engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == kind
    assert refusal[0] in (failed.error or "") and failed.text == TEXT
    assert len(fake.posts()) == 1  # refused once, not retried


def test_reddit_403_is_reported_as_locked_or_banned(store: Store, replay_server: ReplayServer) -> None:
    from tests.support.http_replay import Reply

    fake = FakeReddit(replay_server)
    source = fake.source()
    reply = approved(store, "reddit", TEXT, source)
    replay_server.route("POST", "/api/comment/", Reply.json({"message": "Forbidden", "error": 403}, 403))
    failed = post_reply(store.engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "forbidden"
    assert "locked" in (failed.error or "")


def test_too_long_for_bluesky_is_refused_before_anything_is_sent(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeBluesky(replay_server)
    source = fake.source()
    case = open_case(store.engine, store.ids["bluesky"], "sam", SETTINGS)
    text = "👍" * 301  # 301 graphemes
    draft = save_draft(store.engine, case.id, text, ADMIN)
    with pytest.raises(ReplyTooLong, match="shorten"):
        submit_reply(store.engine, draft.id, ADMIN, SETTINGS, measure("bluesky", text, source))
    family = "👩‍👩‍👧" * 100 + "a" * 200  # 300 graphemes: fits Bluesky's count although len() is 700
    assert source.measure(family) == TextLength(300, 300, "graphemes")
    assert load_reply(store.engine, draft.id).status == "draft"
    assert fake.posts() == []


def test_a_bluesky_refusal_for_length_is_reported_as_too_long(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeBluesky(replay_server)
    reply = approved(store, "bluesky", "x" * 60, fake.source())
    fake.max_graphemes = 50
    failed = post_reply(store.engine, reply.id, ADMIN, fake.source())
    assert failed.status == "failed" and failed.error_kind == "too_long"
    assert "must not be longer than 50 graphemes" in (failed.error or "")
    assert fake.published == []


def test_a_lowered_instance_limit_fails_an_approved_reply_without_posting(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server, max_characters=500)
    reply = approved(store, "mastodon", "x" * 450, fake.source())
    smaller = FakeMastodon.source(fake)
    fake.max_characters = 400
    failed = post_reply(store.engine, reply.id, ADMIN, smaller)
    assert failed.status == "failed" and failed.error_kind == "too_long"
    assert "450 / 400" in (failed.error or "")
    assert fake.posts() == []


def test_the_replier_protocol_is_implemented_by_the_three_sources(replay_server: ReplayServer) -> None:
    for fake in (FakeReddit(replay_server), FakeMastodon(replay_server), FakeBluesky(replay_server)):
        assert isinstance(fake.source(), Replier)
    assert isinstance(FakeApi, type)
