"""Replying to YouTube comments through the case machinery (open, draft, submit, post): comments.insert
with the OAuth refresh-token grant, exactly once through a timeout that landed, the reply quota, and
refusals that keep the draft with the reason. The fake API is tests/sources/youtube_fake.py; the
successful insert answer is the recorded one
(payloads/youtube/recorded_comments-insert_REPLY_parentId_200.json).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from monitor.errors import ReplyStateError
from monitor.mention import utcnow
from monitor.respond.cases import open_case
from monitor.respond.posting import post_reply
from monitor.respond.replies import measure, save_draft, submit_reply
from monitor.sources.base import Replier
from monitor.sources.quota import MemoryQuotaLedger
from monitor.sources.registry import reply_blocker
from monitor.sources.youtube import YouTubeSource
from monitor.store.cases import CaseReply
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.factories import mention
from tests.respond.conftest import ADMIN, SETTINGS
from tests.sources.youtube_fake import ACCESS_TOKEN, CHANNEL, FakeYouTube, google_error
from tests.support.cassettes import payload
from tests.support.http_replay import ReplayServer, Reply

THREAD = "Ugy_CAftKrIUCyPr9GR4AaABAg"  # the parent of the recorded reply
VIDEO = "JE8xdDp5B8Q"
TEXT = "Sorry about the double charge & thanks for telling us: https://acme.example/help"
INSERT = payload("youtube", "recorded_comments-insert_REPLY_parentId_200.json")


def seed(engine: Engine, external_id: str = THREAD, parent_id: str | None = None) -> int:
    import_mentions(
        engine,
        "acme",
        [
            mention(
                1,
                source="youtube",
                external_id=external_id,
                parent_id=parent_id,
                author="angry viewer",
                text="Acme charged me twice",
                url=f"https://www.youtube.com/watch?v={VIDEO}&lc={external_id}",
                raw={"id": external_id, "videoId": VIDEO},
                created_at=utcnow() - timedelta(minutes=5),
            )
        ],
    )
    (row,) = list(iter_all(engine, MentionFilter()))
    mention_id: int = row["id"]
    return mention_id


def approved(engine: Engine, mention_id: int, text: str, replier: Replier) -> CaseReply:
    case = open_case(engine, mention_id, ADMIN.name, SETTINGS)
    draft = save_draft(engine, case.id, text, ADMIN)
    reply = submit_reply(engine, draft.id, ADMIN, SETTINGS, measure(draft.source, text, replier))
    assert reply.status == "approved"
    return reply


def test_a_reply_is_posted_once_under_the_thread(engine: Engine, replay_server: ReplayServer) -> None:
    assert INSERT.is_file(), f"missing payload {INSERT}"
    fake = FakeYouTube(replay_server)
    replay_server.route(
        "POST", "/comments", Reply(200, INSERT.read_bytes(), {"Content-Type": "application/json"})
    )
    source = fake.source()
    reply = approved(engine, seed(engine), TEXT, source)

    posted = post_reply(engine, reply.id, ADMIN, source)
    recorded = json.loads(INSERT.read_text(encoding="utf-8"))
    assert posted.status == "posted" and posted.remote_id == recorded["id"]
    assert posted.remote_url == f"https://www.youtube.com/watch?v={VIDEO}&lc={recorded['id']}"
    (post,) = fake.posts()
    assert post.query == {"part": "snippet"}
    assert post.json() == {"snippet": {"parentId": THREAD, "textOriginal": TEXT}}
    assert post.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    (token,) = replay_server.requests_to("/token")
    assert token.form()["grant_type"] == "refresh_token"
    assert source.reply_quota.usage().used == 50  # comments.insert's units, counted before sending

    with pytest.raises(ReplyStateError):
        post_reply(engine, reply.id, ADMIN, source)
    assert len(fake.posts()) == 1


def test_a_reply_to_a_reply_goes_under_the_same_thread(engine: Engine, replay_server: ReplayServer) -> None:
    fake = FakeYouTube(replay_server)
    source = fake.source()
    reply = approved(engine, seed(engine, f"{THREAD}.9iPXEClD9lW", parent_id=THREAD), TEXT, source)
    assert post_reply(engine, reply.id, ADMIN, source).status == "posted"
    (post,) = fake.posts()
    assert post.json()["snippet"]["parentId"] == THREAD  # YouTube threads are one level deep


def test_a_timeout_after_youtube_published_is_found_and_never_posted_twice(
    engine: Engine, replay_server: ReplayServer
) -> None:
    fake = FakeYouTube(replay_server)
    source = fake.source(timeout_s=0.5)
    reply = approved(engine, seed(engine), TEXT, source)
    fake.slow_s = 2.0  # YouTube publishes the comment, then answers after the client gave up

    first = post_reply(engine, reply.id, ADMIN, source)
    assert first.status == "unconfirmed", first.error
    assert len(fake.published) == 1 and len(fake.posts()) == 1

    fake.slow_s = 0.0
    retried = post_reply(engine, reply.id, ADMIN, source, now=utcnow() + timedelta(minutes=1))
    assert retried.status == "posted" and retried.remote_id == fake.published[0].id
    assert len(fake.posts()) == 1, "the retry found the reply and did not post again"
    (mine,) = replay_server.requests_to("/channels")
    assert mine.query == {"part": "id", "mine": "true"}
    assert all(
        r.query["parentId"] == THREAD for r in replay_server.requests_to("/comments") if r.method == "GET"
    )


def test_a_spent_quota_fails_the_reply_before_sending(engine: Engine, replay_server: ReplayServer) -> None:
    fake = FakeYouTube(replay_server)
    clock_now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    ledger = MemoryQuotaLedger()
    source = fake.source(ledger=ledger, clock=lambda: clock_now, daily_quota=60)
    source.reply_quota.spend(20, "search.list")  # 40 of 60 left: a reply needs 50
    reply = approved(engine, seed(engine), TEXT, source)
    failed = post_reply(engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "rate_limited"
    assert "comments.insert needs 50 unit(s)" in (failed.error or "")
    assert fake.posts() == []


def test_permission_denied_keeps_the_draft_with_the_reason(
    engine: Engine, replay_server: ReplayServer
) -> None:
    denied = payload("youtube", "recorded_error_403_PERMISSION_DENIED.json")
    fake = FakeYouTube(replay_server)
    replay_server.route(
        "POST", "/comments", Reply(403, denied.read_bytes(), {"Content-Type": "application/json"})
    )
    source = fake.source()
    reply = approved(engine, seed(engine), TEXT, source)
    failed = post_reply(engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "forbidden"
    assert "PERMISSION_DENIED" in (failed.error or "") and failed.text == TEXT


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (google_error(400, "commentTextTooLong", "The comment is too long."), "too_long"),
        (google_error(404, "parentCommentNotFound", "The parent comment could not be found."), "deleted"),
        (google_error(403, "commentsDisabled", "Comments are disabled."), "locked"),
    ],
)
def test_documented_refusals_say_why(
    engine: Engine, replay_server: ReplayServer, answer: Reply, kind: str
) -> None:
    """Bodies built from the comments.insert error table of the API reference (no recording of these)."""
    fake = FakeYouTube(replay_server)
    replay_server.route("POST", "/comments", answer)
    source = fake.source()
    reply = approved(engine, seed(engine), TEXT, source)
    failed = post_reply(engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == kind


def test_a_refused_refresh_token_names_the_settings_and_sends_nothing(
    engine: Engine, replay_server: ReplayServer
) -> None:
    fake = FakeYouTube(replay_server)
    source = fake.source(refresh_token="rt-no-longer-valid-4711")
    reply = approved(engine, seed(engine), TEXT, source)
    failed = post_reply(engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "auth"
    assert "GRUMBLE_YOUTUBE_REFRESH_TOKEN" in (failed.error or "") and "4711" not in (failed.error or "")
    assert fake.posts() == []
    assert source.reply_quota.usage().used == 0, "no units spent on a reply that could not be sent"


def test_without_oauth_settings_the_case_says_what_is_missing(replay_server: ReplayServer) -> None:
    source = FakeYouTube(replay_server).source(client_id="", client_secret="", refresh_token="")
    missing = source.missing_login()
    assert missing is not None and "GRUMBLE_YOUTUBE_REFRESH_TOKEN" in missing
    assert "youtube needs" in (reply_blocker(source, THREAD) or "")


def test_replies_are_measured_against_youtubes_limit(replay_server: ReplayServer) -> None:
    source = FakeYouTube(replay_server).source()
    assert isinstance(source, YouTubeSource) and isinstance(source, Replier)
    assert source.measure("x" * 10_000).ok and not source.measure("x" * 10_001).ok
    assert source.measure("ok").describe() == "2 / 10,000 characters"
    assert CHANNEL  # the fake's channel is the one find_reply matches


def test_youtubes_own_quota_error_fails_the_reply_as_rate_limited(
    engine: Engine, replay_server: ReplayServer
) -> None:
    exceeded = payload("youtube", "recorded_error_403_quotaExceeded.json")
    fake = FakeYouTube(replay_server)
    replay_server.route(
        "POST", "/comments", Reply(403, exceeded.read_bytes(), {"Content-Type": "application/json"})
    )
    source = fake.source()
    reply = approved(engine, seed(engine), TEXT, source)
    failed = post_reply(engine, reply.id, ADMIN, source)
    assert failed.status == "failed" and failed.error_kind == "rate_limited"
    assert "quotaExceeded" in (failed.error or "") and "<a href" not in (failed.error or "")
    assert source.reply_quota.remaining() == 0, "the count now knows the day is spent"
