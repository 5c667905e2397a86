"""Scored mentions to hand over, the three helpdesks as loopback fakes, and their accounts."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, update

from monitor.config.helpdesk import HelpdeskAccount
from monitor.config.settings import ResponderSettings
from monitor.helpdesk.base import Helpdesk
from monitor.helpdesk.chatwoot import Chatwoot
from monitor.helpdesk.freescout import FreeScout
from monitor.helpdesk.zammad import Zammad
from monitor.mention import utcnow
from monitor.ranking import now_offset
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from monitor.store.schema import mentions
from tests.factories import mention
from tests.helpdesk.fakes import SECRET, TOKEN, Fake, FakeChatwoot, FakeFreeScout, FakeZammad
from tests.support.http_replay import ReplayServer

RESPONDER = ResponderSettings()
TIMEOUT_S = 0.2


def score(
    engine: Engine, mention_id: int, label: str, negative: float, priority: float, now: datetime
) -> None:
    """Scored `label` now, with exactly this priority now."""
    with engine.begin() as connection:
        connection.execute(
            update(mentions)
            .where(mentions.c.id == mention_id)
            .values(
                label=label,
                negative=negative,
                neutral=round(1 - negative - 0.01, 2),
                positive=0.01,
                scored_at=now,
                rank_key=math.log(priority) + now_offset(now),
            )
        )


@dataclass
class Store:
    engine: Engine
    ids: dict[str, int]


def seed(engine: Engine) -> Store:
    """An App Store review that rules should send, a Reddit complaint below the bar, a happy toot."""
    now = utcnow()
    import_mentions(
        engine,
        "acme",
        [
            mention(
                1,
                source="appstore",
                external_id="review-1",
                author="refund_ann",
                text="Acme lost all my notes after the update",
                url="https://apps.apple.com/us/app/id1?see-all=reviews",
                rating=1,
                created_at=now - timedelta(minutes=5),
            ),
            mention(
                2, source="reddit", external_id="t1_x", author="op", text="acme sync is slow", created_at=now
            ),
            mention(
                3, source="mastodon", external_id="1179", author="dana", text="acme is lovely", created_at=now
            ),
        ],
    )
    ids = {row["source"]: row["id"] for row in iter_all(engine, MentionFilter())}
    score(engine, ids["appstore"], "negative", 0.93, 4.0, now)
    score(engine, ids["reddit"], "negative", 0.71, 1.5, now)
    score(engine, ids["mastodon"], "positive", 0.02, 0.5, now)
    return Store(engine, ids)


@pytest.fixture
def store(sqlite_engine: Engine) -> Store:
    return seed(sqlite_engine)


def account(name: str, url: str, **fields: object) -> HelpdeskAccount:
    owns: dict[str, dict[str, object]] = {
        "chatwoot": {"account_id": FakeChatwoot.ACCOUNT, "inbox_id": FakeChatwoot.INBOX},
        "zammad": {"group": "Social", "customer": "social@acme.example"},
        "freescout": {"mailbox_id": 1, "customer_email": "social@acme.example"},
    }
    own = owns[name]
    values: dict[str, object] = {
        "token": TOKEN,
        "webhook_secret": SECRET,
        "timeout_s": TIMEOUT_S,
        **own,
        **fields,
    }
    return HelpdeskAccount(name=name, base_url=url, **values)  # type: ignore[arg-type]


FAKES: dict[str, tuple[Callable[[ReplayServer], Fake], Callable[..., Helpdesk]]] = {
    "chatwoot": (FakeChatwoot, Chatwoot),
    "zammad": (FakeZammad, Zammad),
    "freescout": (FakeFreeScout, FreeScout),
}
CREATE_PATH = {
    "chatwoot": f"{FakeChatwoot.PREFIX}/conversations",
    "zammad": "/api/v1/tickets",
    "freescout": "/api/conversations",
}


@dataclass
class Desk:
    name: str
    fake: Fake
    client: Helpdesk

    def creates(self) -> int:
        return len(self.fake.creates(CREATE_PATH[self.name]))


@pytest.fixture(params=list(FAKES))
def desk(request: pytest.FixtureRequest, replay_server: ReplayServer) -> Desk:
    """Each helpdesk in turn, as a fake on loopback and our client pointed at it."""
    name = request.param
    make_fake, make_client = FAKES[name]
    return Desk(name, make_fake(replay_server), make_client(account(name, replay_server.url)))


@pytest.fixture
def chatwoot_desk(replay_server: ReplayServer) -> Desk:
    """One helpdesk, for what the hand-off does the same whichever it is."""
    return Desk("chatwoot", FakeChatwoot(replay_server), Chatwoot(account("chatwoot", replay_server.url)))
