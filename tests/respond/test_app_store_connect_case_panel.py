"""The case panel answers an App Store review in the store and shows Apple's state: "pending Apple's
review" until Apple publishes the response, then "published" (through AppTest, with the key configured
in grumble.toml and the fake App Store Connect API on loopback verifying its JWT)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor.config import load_config
from monitor.jobs import Jobs, ModelHolder
from monitor.mention import utcnow
from monitor.store.cases import find_case, replies_for_case
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.dashboard.conftest import Seeded, make_store, run_app
from tests.factories import mention
from tests.respond.conftest import set_priority
from tests.sources.app_store_connect_fake import (
    APP_ID,
    ISSUER_ID,
    KEY_ID,
    FakeAppStoreConnect,
    p8_text,
    review,
)
from tests.support.http_replay import ReplayServer

__all__ = ["make_store"]

REVIEW_ID = "00000028-b08c-0014-9674-c54800000000"
TEXT = "Hi Juan, thanks! Version 4.3 brings the brushes back."


def _config(server: ReplayServer, key_file: Path) -> str:
    return (
        f'[sources.app_store_connect]\nbase_url = "{server.url}"\nissuer_id = "{ISSUER_ID}"\n'
        f'key_id = "{KEY_ID}"\nprivate_key_file = "{key_file}"\ntimeout_s = 5\n'
    )


def _shown(app: AppTest) -> str:
    return " ".join(s.value for s in app.success).replace("\\", "")


def test_the_case_shows_pending_apples_review_then_published(
    make_store: Callable[[str], Seeded], replay_server: ReplayServer, tmp_path: Path
) -> None:
    fake = FakeAppStoreConnect(replay_server)
    fake.reviews.append(review(REVIEW_ID, "2026-11-01T05:00:00-07:00", "Where did the brushes go?", rating=2))
    key_file = tmp_path / f"AuthKey_{KEY_ID}.p8"
    key_file.write_text(p8_text(fake.key))
    seeded = make_store(_config(replay_server, key_file))
    import_mentions(
        seeded.engine,
        "acme",
        [
            mention(
                9,
                source="app_store_connect",
                external_id=REVIEW_ID,
                author="Juan Chavez",
                text="Where did the brushes go?",
                url=f"https://apps.apple.com/app/id{APP_ID}?see-all=reviews",
                rating=2,
                created_at=utcnow(),
            )
        ],
    )
    mention_id = next(
        r["id"] for r in iter_all(seeded.engine, MentionFilter()) if r["source"] == "app_store_connect"
    )
    set_priority(seeded.engine, mention_id, 1.0)

    app = run_app("views/mention.py", query={"id": str(mention_id)})
    app.button(key=f"open-case-{mention_id}").click().run()
    case = find_case(seeded.engine, mention_id)
    assert case is not None
    key = f"case-{case.id}-reply"
    app.text_area(key=f"{key}-text").input(TEXT).run()
    app.button(key=f"{key}-submit").click().run()
    assert not app.exception, [e.value for e in app.exception]

    (post,) = fake.posts()
    assert post.json()["data"]["attributes"]["responseBody"] == TEXT
    assert "pending Apple's review" in _shown(app)
    assert "published" not in _shown(app)

    # Apple publishes it; the scheduler's settle-replies job notices.
    fake.publish(REVIEW_ID)
    no_model = ModelHolder(lambda: pytest.fail("settling replies needs no model"))
    Jobs(load_config(seeded.config), seeded.engine, no_model).settle_replies()
    (reply,) = replies_for_case(seeded.engine, case.id)
    assert reply.remote_state == "published"
    app = run_app("views/mention.py", query={"id": str(mention_id)})
    assert "· published" in _shown(app) and "pending" not in _shown(app)
    assert len(fake.posts()) == 1
