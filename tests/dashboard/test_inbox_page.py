"""The inbox page through Streamlit's AppTest, on a real SQLite store."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from monitor.store.engine import connect
from monitor.store.mentions import MentionFilter, import_mentions, iter_all, save_scores
from tests.conftest import REPO
from tests.factories import BASE_TIME, mention

APP = str(REPO / "dashboard" / "app.py")
HOSTILE = (
    "<script>alert('x')</script> **bold** [click](javascript:alert(1)) ![beacon](https://evil.example/b.png)"
)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    config = tmp_path / "grumble.toml"
    config.write_text(
        '[[watches]]\nname = "acme"\nkeywords = ["acme"]\n[watches.sources.demo]\n', encoding="utf-8"
    )
    url = f"sqlite:///{tmp_path / 'g.db'}"
    monkeypatch.setenv("GRUMBLE_CONFIG", str(config))
    monkeypatch.setenv("GRUMBLE_DATABASE_URL", url)
    st.cache_resource.clear()
    engine = connect(url)
    import_mentions(
        engine,
        "acme",
        [
            mention(1, source="reddit", text="calm neutral words"),
            mention(2, source="reddit", text="mildly annoyed", url="javascript:alert(1)"),
            mention(3, source="appstore", text=HOSTILE, rating=1),
            mention(4, source="appstore", text="love it"),
        ],
    )
    ids = {row["external_id"]: row["id"] for row in iter_all(engine, MentionFilter())}
    scores = {
        "m1": ("neutral", 0.1),
        "m2": ("negative", 0.7),
        "m3": ("negative", 0.95),
        "m4": ("positive", 0.01),
    }
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
                "model_version": "v",
                "scored_at": BASE_TIME,
            }
            for key, (label, neg) in scores.items()
        ],
    )
    yield engine
    engine.dispose()
    st.cache_resource.clear()


def run_app() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def table(app: AppTest) -> list[dict[str, object]]:
    frame = app.dataframe[0].value
    return frame.to_dict("records")  # type: ignore[no-any-return]


def test_inbox_opens_with_negatives_first(store: Engine) -> None:
    app = run_app()
    assert app.title[0].value == "Inbox"
    rows = table(app)
    assert [row["label"] for row in rows][:2] == ["negative", "negative"]
    assert [row["text"] for row in rows][:2] == [HOSTILE, "mildly annoyed"]
    assert app.caption[0].value == "4 mentions shown, 2 negative"


def test_filters_by_source_and_label(store: Engine) -> None:
    app = run_app()
    app.multiselect(key="filter_source").set_value(["appstore"]).run()
    assert {row["source"] for row in table(app)} == {"appstore"}
    app.multiselect(key="filter_label").set_value(["positive"]).run()
    assert [row["text"] for row in table(app)] == ["love it"]


def test_hostile_text_is_shown_as_text_and_unsafe_links_dropped(store: Engine) -> None:
    app = run_app()
    rows = {row["text"]: row for row in table(app)}
    assert rows[HOSTILE]["text"] == HOSTILE
    assert not isinstance(rows["mildly annoyed"]["link"], str)  # None, shown as an empty cell
    assert rows["love it"]["link"] == "https://example.com/4"
    # Details render through st.text, which never interprets Markdown or HTML.
    texts = [element.value for element in app.text]
    assert HOSTILE in texts
    assert all("unsafe_allow_html" not in str(m.proto) for m in app.markdown)
