"""A store with one mention per source, the users who act on them, and no real sleeping in prawcore."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from prawcore.sessions import FiniteRetryStrategy
from sqlalchemy import Engine, update

from monitor.auth.users import User
from monitor.config import ResponderSettings
from monitor.mention import utcnow
from monitor.ranking import now_offset
from monitor.respond.cases import open_case
from monitor.respond.replies import measure, save_draft, submit_reply
from monitor.sources.base import Replier
from monitor.store.cases import CaseReply
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from monitor.store.schema import mentions
from monitor.store.triage import history
from tests.factories import mention

RESPONDER = User("rick", "responder", password_hash="x")
ADMIN = User("sam", "admin", password_hash="x")
OTHER_ADMIN = User("alex", "admin", password_hash="x")
VIEWER = User("vera", "viewer", password_hash="x")
SETTINGS = ResponderSettings()

BLUESKY_URI = "at://did:plc:acmefan0/app.bsky.feed.post/3l0acme0xyz"
BLUESKY_ROOT = {"uri": "at://did:plc:someone/app.bsky.feed.post/3kroot000000", "cid": "bafyroot"}
MASTODON_ID = "117541070438400000"


@pytest.fixture(autouse=True)
def no_prawcore_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


@dataclass
class Store:
    engine: Engine
    ids: dict[str, int]


def set_priority(engine: Engine, mention_id: int, value: float, now: datetime | None = None) -> None:
    """Score a mention negative with exactly this priority now."""
    key = math.log(value) + now_offset(now or utcnow())
    with engine.begin() as connection:
        connection.execute(
            update(mentions)
            .where(mentions.c.id == mention_id)
            .values(label="negative", negative=0.9, rank_key=key)
        )


def trail(store: Store, key: str) -> list[tuple[str, str | None, str | None, str]]:
    """The mention's audit trail: (action, before, after, actor) per event."""
    return [(e.action, e.before, e.after, e.actor) for e in history(store.engine, store.ids[key])]


def seed(engine: Engine) -> Store:
    now = utcnow()
    import_mentions(
        engine,
        "acme",
        [
            mention(
                1,
                source="reddit",
                external_id="t1_cust1",
                parent_id="t3_sub1",
                author="angry_ann",
                text="Acme lost my notes",
                url="https://www.reddit.com/r/acme/comments/sub1/_/cust1/",
                created_at=now - timedelta(minutes=30),
            ),
            mention(
                2,
                source="reddit",
                external_id="t3_sub1",
                author="op",
                text="Acme sync is down",
                title="Acme down?",
                created_at=now - timedelta(minutes=40),
            ),
            mention(
                3,
                source="mastodon",
                external_id=MASTODON_ID,
                author="dana_k@social.example",
                text="Acme logged me out",
                url=f"https://social.example/@dana_k/{MASTODON_ID}",
                created_at=now - timedelta(minutes=20),
            ),
            mention(
                4,
                source="bluesky",
                external_id=BLUESKY_URI,
                author="danak.bsky.social",
                text="Acme app keeps crashing",
                url="https://bsky.app/profile/danak.bsky.social/post/3l0acme0xyz",
                raw={
                    "uri": BLUESKY_URI,
                    "cid": "bafyreiacme0",
                    "record": {
                        "text": "Acme app keeps crashing",
                        "reply": {"root": BLUESKY_ROOT, "parent": BLUESKY_ROOT},
                    },
                },
                created_at=now - timedelta(minutes=10),
            ),
            mention(
                5,
                source="appstore",
                external_id="review-1",
                author="refund_ann",
                text="Acme lost my data",
                url="https://apps.apple.com/us/app/id1?see-all=reviews",
                rating=1,
                created_at=now - timedelta(minutes=5),
            ),
        ],
    )
    ids = {
        row["source"] + ("_post" if row["external_id"] == "t3_sub1" else ""): row["id"]
        for row in iter_all(engine, MentionFilter())
    }
    for mention_id in ids.values():
        set_priority(engine, mention_id, 1.0, now)
    return Store(engine, ids)


@pytest.fixture
def store(engine: Engine) -> Store:
    return seed(engine)


def approved(store: Store, key: str, text: str, replier: Replier | None, user: User = ADMIN) -> CaseReply:
    """A reply ready to post: case opened, draft saved, submitted with no approval needed."""
    case = open_case(store.engine, store.ids[key], user.name, SETTINGS)
    draft = save_draft(store.engine, case.id, text, user)
    reply = submit_reply(store.engine, draft.id, user, SETTINGS, measure(draft.source, text, replier))
    assert reply.status == "approved"
    return reply
