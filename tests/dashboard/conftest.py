"""A seeded SQLite store and config for page tests; AppTest runs the real app script."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from monitor.mention import utcnow
from monitor.ranking import rank_key
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all, save_scores
from tests.alerts.conftest import SmtpServer
from tests.conftest import REPO
from tests.factories import mention

APP = str(REPO / "dashboard" / "app.py")
HOSTILE = (
    "<script>alert('x')</script> **bold** [click](javascript:alert(1)) ![beacon](https://evil.example/b.png)"
)


@dataclass
class Seeded:
    engine: Engine
    ids: dict[str, int]
    config: Path


def score(engine: Engine, ids: dict[str, int], labels: dict[str, tuple[str, float]]) -> None:
    rows = {row["id"]: row for row in iter_all(engine, MentionFilter())}
    now = utcnow()
    save_scores(
        engine,
        [
            {
                "id": ids[key],
                "label": label,
                "negative": neg,
                "neutral": 1 - neg,
                "positive": 0.0,
                "detected_language": "en",
                "model_version": "v1",
                "scored_at": now,
                "rank_key": rank_key(neg, rows[ids[key]]["created_at"], rows[ids[key]]["author_reach"]),
            }
            for key, (label, neg) in labels.items()
        ],
    )


@pytest.fixture
def make_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Seeded]]:
    engines: list[Engine] = []

    def make(extra_config: str = "") -> Seeded:
        config = tmp_path / "grumble.toml"
        config.write_text(
            '[[watches]]\nname = "acme"\nkeywords = ["acme"]\n[watches.sources.demo]\n' + extra_config,
            encoding="utf-8",
        )
        url = f"sqlite:///{tmp_path / 'g.db'}"
        monkeypatch.setenv("GRUMBLE_CONFIG", str(config))
        monkeypatch.setenv("GRUMBLE_DATABASE_URL", url)
        st.cache_resource.clear()
        st.cache_data.clear()
        engine = connect(url)
        engines.append(engine)
        now = utcnow()
        import_mentions(
            engine,
            "acme",
            [
                mention(1, source="reddit", text="calm neutral words", created_at=now - timedelta(hours=3)),
                mention(
                    2,
                    source="reddit",
                    text="mildly annoyed",
                    url="javascript:alert(1)",
                    created_at=now - timedelta(hours=2),
                ),
                mention(3, source="appstore", text=HOSTILE, rating=1, created_at=now - timedelta(hours=1)),
                mention(4, source="appstore", text="love it", created_at=now - timedelta(hours=1)),
                mention(
                    5,
                    source="reddit",
                    text="the reply is broken too",
                    parent_id="m2",
                    author="author2",
                    created_at=now,
                ),
            ],
        )
        ids = {row["external_id"]: row["id"] for row in iter_all(engine, MentionFilter())}
        score(
            engine,
            ids,
            {
                "m1": ("neutral", 0.1),
                "m2": ("negative", 0.7),
                "m3": ("negative", 0.95),
                "m4": ("positive", 0.01),
                "m5": ("negative", 0.6),
            },
        )
        return Seeded(engine, ids, config)

    yield make
    for engine in engines:
        engine.dispose()
    st.cache_resource.clear()


def run_app(
    page: str | None = None, query: dict[str, str] | None = None, session: dict[str, object] | None = None
) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=30)
    for key, value in (session or {}).items():
        app.session_state[key] = value
    for key, value in (query or {}).items():
        app.query_params[key] = value
    app.run()
    if page is not None:
        app.switch_page(page)
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def markdown_text(app: AppTest) -> str:
    return "\n".join(element.value for element in app.markdown)


@pytest.fixture
def mail_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on loopback (the alerts tests' sink), for pages that send mail."""
    from aiosmtpd.controller import Controller

    from tests.alerts.conftest import MailSink, free_port

    port, sink = free_port(), MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port, auth_require_tls=False, ready_timeout=30)
    controller.start()
    yield SmtpServer(controller, port, "none", sink)
    controller.stop()
