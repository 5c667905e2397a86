"""`grumble topics [--watch NAME] [--refit]` and its edits, and `grumble export` carrying each topic."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from monitor.cli import main
from monitor.store.engine import connect
from tests.topics.conftest import WordEmbedder, add_corpus


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRUMBLE_CONFIG", raising=False)
    monkeypatch.delenv("GRUMBLE_DATABASE_URL", raising=False)
    monkeypatch.setattr("monitor.topics.embed.load_embedder", WordEmbedder)
    (tmp_path / "grumble.toml").write_text(
        f"""
database_url = "sqlite:///{tmp_path / "g.db"}"
[[watches]]
name = "acme"
keywords = ["acme"]
topics = ["refund"]
[[watches]]
name = "quiet"
""",
        encoding="utf-8",
    )
    return tmp_path


@pytest.fixture
def stored(workdir: Path) -> Engine:
    engine = connect(f"sqlite:///{workdir / 'g.db'}")
    add_corpus(engine)
    return engine


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_topics_refit_prints_each_topic_with_size_and_name(
    stored: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "topics")
    assert code == 0 and "acme: no topics yet (run `grumble topics --refit`)" in out
    code, out, _ = run(capsys, "topics", "--refit")
    assert code == 0
    assert "acme: 3 topics over 120 unhappy mentions (0 kept, 3 new" in out
    assert "quiet: no refit (0 unhappy mentions; topics start at 12)" in out
    lines = [line.split(maxsplit=4) for line in out.splitlines() if line.startswith("  ")]
    assert len(lines) == 3
    assert sum(int(size) for _, size, *_ in lines) == 120
    assert any(name == "refund" for *_, name in lines)
    code, out, _ = run(capsys, "topics", "--watch", "quiet")
    assert out.strip() == "quiet: no topics yet (run `grumble topics --refit`)"


def test_a_rename_from_the_command_line_shows_and_is_exported(
    stored: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "topics", "--refit", "--watch", "acme")
    code, out, _ = run(capsys, "topics")
    topic_id = next(line.split()[0] for line in out.splitlines() if line.startswith("  "))
    code, out, _ = run(capsys, "topics", "--rename", topic_id, "Billing mess")
    assert code == 0 and f"topic {topic_id} renamed" in out and "Billing mess" in out
    code, out, _ = run(capsys, "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 120 and {"topic_id", "topic", "topics"} <= set(rows[0])
    named = [row for row in rows if row["topic_id"] == topic_id]
    assert named and all(row["topic"] == "Billing mess" for row in named)
    assert json.loads(named[0]["topics"]) == [{"watch": "acme", "id": int(topic_id), "name": "Billing mess"}]
    code, out, _ = run(capsys, "export", "--format", "jsonl")
    assert all(json.loads(line)["topic_id"] is not None for line in out.splitlines())


def test_bad_topic_edits_say_what_to_do(stored: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "topics", "--rename", "999", "x")
    assert code != 0 and "no active topic 999: list them with `grumble topics`" in err
    with pytest.raises(SystemExit, match="a topic id is a number"):
        run(capsys, "topics", "--rename", "billing", "x")


def test_topic_settings_and_seed_topics_are_read_and_a_wrong_key_is_named() -> None:
    from monitor.config import parse_config
    from monitor.errors import ConfigError

    config = parse_config(
        {
            "watches": [{"name": "acme", "topics": ["refund", " login "]}],
            "topics": {"refit_every_hours": 6, "emerging_ratio": 4},
        },
        None,
        {},
    )
    assert config.watch("acme").topics == ("refund", "login")
    assert config.topics.refit_every_hours == 6 and config.topics.emerging_ratio == 4
    with pytest.raises(ConfigError, match="refit_every_hour"):
        parse_config({"watches": [{"name": "acme"}], "topics": {"refit_every_hour": 6}}, None, {})
