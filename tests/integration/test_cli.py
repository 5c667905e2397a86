"""The `grumble` command end to end, in process, on real SQLite files (and PostgreSQL for import/export)."""

import csv
import io
import json
from pathlib import Path

import pytest

from monitor.cli import build_parser, main

IMPORT_CSV = (
    "id,text,author,url,created_at,rating\n"
    'r1,"The app deleted my notes, furious",ann,https://shop.example/r1,2024-05-01T10:00:00+00:00,1.0\n'
    "r2,Works great 😍,bob,https://shop.example/r2,2024-05-02T11:30:00+00:00,5.0\n"
    "r3,,carol,,2024-05-03T09:00:00+00:00,\n"
    "r4,broken row,dave,,not a date,2\n"
    'r5,"מוצר גרוע, לא ממליץ",eve,https://shop.example/r5,2024-05-04T08:15:00+00:00,2.0\n'
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRUMBLE_CONFIG", raising=False)
    monkeypatch.delenv("GRUMBLE_DATABASE_URL", raising=False)
    (tmp_path / "grumble.toml").write_text(
        f"""
database_url = "sqlite:///{tmp_path / "g.db"}"
[model]
name = "{tiny_model_dir}"
[[watches]]
name = "acme"
keywords = ["acme"]
[watches.sources.demo]
""",
        encoding="utf-8",
    )
    (tmp_path / "reviews.csv").write_text(IMPORT_CSV, encoding="utf-8")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(
        a for a in parser._actions if a.dest == "==SUPPRESS==" or a.__class__.__name__ == "_SubParsersAction"
    )
    return list(action.choices)  # type: ignore[attr-defined]


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    names = subcommands()
    assert set(names) >= {
        "init",
        "up",
        "run",
        "collect",
        "score",
        "classify",
        "import",
        "export",
        "dashboard",
        "status",
    }
    # In this process (argparse prints the help and exits 0); the crash and scale-out tests run
    # `python -m monitor.cli` itself.
    for name in names:
        with pytest.raises(SystemExit) as ended:
            main([name, "--help"])
        assert ended.value.code == 0, name
        assert f"usage: grumble {name}" in capsys.readouterr().out


@pytest.mark.both_databases
def test_import_then_export_round_trips_every_field_and_reimport_adds_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    code, out, err = run(capsys, "--database", database_url, "import", "reviews.csv", "--watch", "acme")
    assert code == 0
    assert "imported 4 new mentions" in out
    assert "line 5" in err and "not a date" in err
    code, out, _ = run(capsys, "--database", database_url, "import", "reviews.csv", "--watch", "acme")
    assert "imported 0 new mentions" in out and "4 already stored" in out

    code, out, _ = run(capsys, "--database", database_url, "export", "--format", "csv")
    exported = list(csv.DictReader(io.StringIO(out)))
    original = {row["id"]: row for row in csv.DictReader(io.StringIO(IMPORT_CSV)) if row["id"] != "r4"}
    assert {row["id"] for row in exported} == set(original)
    for row in exported:
        source_row = original[row["id"]]
        for key in ("text", "author", "url", "created_at"):
            assert row[key] == source_row[key], (row["id"], key)
        assert (float(row["rating"]) if row["rating"] else None) == (
            float(source_row["rating"]) if source_row["rating"] else None
        )
        assert row["source"] == "file"
        assert json.loads(row["watches"]) == ["acme"]
        assert row["label"] in ("negative", "neutral", "positive")
        assert float(row["negative"]) + float(row["neutral"]) + float(row["positive"]) == pytest.approx(
            1, abs=1e-3
        )
        assert row["model_version"]
        assert json.loads(row["raw"])["id"] == row["id"]

    # An export is itself importable: importing it elsewhere gives the same mentions.
    Path("export.csv").write_text(out, encoding="utf-8")
    code, out2, _ = run(
        capsys, "--database", f"sqlite:///{workdir / 'copy.db'}", "import", "export.csv", "--watch", "acme"
    )
    assert "imported 4 new mentions" in out2


def test_export_jsonl_filters(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "import", "reviews.csv", "--watch", "acme")
    code, out, _ = run(capsys, "export", "--format", "jsonl", "--since", "2024-05-02")
    rows = [json.loads(line) for line in out.splitlines()]
    assert {row["id"] for row in rows} == {"r2", "r3", "r5"}
    assert isinstance(rows[0]["raw"], dict)
    label = rows[0]["label"]
    code, out, _ = run(capsys, "export", "--label", label)
    lines = out.splitlines()
    assert code == 0 and lines and all(json.loads(line)["label"] == label for line in lines)
    code, _, err = run(capsys, "export", "--since", "last tuesday")
    assert code == 1 and "7d" in err


def test_collect_once_then_status(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "collect", "--once")
    assert code == 0
    assert "acme/demo: 280 fetched, 280 kept, 280 new" in out
    assert "scored 280 mentions" in out
    code, out, _ = run(capsys, "status")
    assert code == 0
    assert "demo  [ok]" in out
    assert "pending scoring:  0" in out
    # The Sources page's "collected" figure, for the same job (demo hands over reddit, bluesky... mentions).
    assert "collected:        280" in out


def test_classify_keeps_order_and_shape(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    texts = ["I hate this", "", "love it 😍", "x" * 20000]
    (workdir / "in.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "classify", "--input", "in.txt")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == len(texts)
    for line in lines:
        assert line["label"] in ("negative", "neutral", "positive")
        assert set(line["scores"]) == {"negative", "neutral", "positive"}
        assert line["label"] == max(line["scores"], key=line["scores"].get)


def test_errors_become_messages_and_exit_codes(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.toml").write_text("[[watches]]\nname = 3\n", encoding="utf-8")
    code, _, err = run(capsys, "--config", "bad.toml", "status")
    assert code == 2
    assert "bad.toml: watches[0].name: expected" in err
    code, _, err = run(capsys, "import", "missing.csv", "--watch", "acme")
    assert code == 1 and "cannot read missing.csv" in err
    code, _, err = run(capsys, "init")
    assert code == 2 and "--force" in err
    code, _, err = run(capsys, "classify", "--model", str(workdir / "no-model"))
    assert code == 1 and "cannot load the sentiment model" in err


@pytest.mark.both_databases
def test_odd_texts_are_stored_and_scored(
    workdir: Path, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    path = workdir / "odd.csv"
    path.write_bytes(
        b"id,text\n"
        b"empty,\n"
        b"spaces,   \n"
        + b"big,"
        + ("complaint " * 105_000).encode()
        + b"\n"
        + b"bytes,caf\xe9 \xff broken\n"
        + "emoji,love it 😍🔥👍🏽\n".encode()
        + "rtl,מוצר גרוע מאוד \u202eevil\n".encode()
        + "arabic,الخدمة سيئة جدا\n".encode()
        + b'nul,"nul \x00 byte"\n'
    )
    code, out, err = run(capsys, "--database", database_url, "import", str(path), "--watch", "acme")
    assert code == 0, err
    assert "imported 8 new mentions" in out
    assert "invalid UTF-8" in err
    code, out, _ = run(capsys, "--database", database_url, "export", "--format", "jsonl")
    rows = {row["id"]: row for row in map(json.loads, out.splitlines())}
    assert len(rows) == 8
    assert all(
        row["label"] in ("negative", "neutral", "positive") and row["scored_at"] for row in rows.values()
    )
    # A megabyte text is stored cut to the bound (what lists, search and the model read), whole apart.
    from monitor.mention import MAX_TEXT_CHARS
    from monitor.store.engine import connect
    from monitor.store.mentions import full_text

    assert len(rows["big"]["text"]) == MAX_TEXT_CHARS
    engine = connect(database_url)
    assert full_text(engine, rows["big"]["mention_id"]) == "complaint " * 105_000
    engine.dispose()
    assert rows["emoji"]["text"] == "love it 😍🔥👍🏽"
    assert rows["bytes"]["text"] == "caf\ufffd \ufffd broken"
    assert rows["empty"]["text"] == ""


def test_run_refuses_digests_it_could_never_send(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = workdir / "grumble.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + "[[digests]]\nname = 'team'\nrecipients = ['a@example.com']\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "run")
    assert code == 2
    assert "[[digests]] 'team' send mail, but [smtp] has no host" in err


@pytest.mark.parametrize(
    "url", ["postgrsql://ann:s3cret-pw@db/g", "postgresql://ann:s3cret-pw@db:abc/g", "://ann:s3cret-pw@db"]
)
def test_a_bad_database_url_is_a_config_error_that_hides_its_password(
    workdir: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = run(capsys, "--database", url, "status")
    assert code == 2
    assert "cannot use database URL" in err and "ann:***@" in err
    assert "s3cret-pw" not in out + err
