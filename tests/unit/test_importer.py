import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ImportFileError
from monitor.mention import MAX_TEXT_CHARS
from monitor.sources.tabular import read_file


def test_csv_with_default_columns(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(
        "id,text,author,url,created_at,rating\n"
        'r1,"Broken, again",ann,https://x/1,2024-05-01T10:00:00Z,1\n'
        'r2,"multi\nline text",bob,,2024-05-02 11:30,5\n',
        encoding="utf-8",
    )
    batch = read_file(path)
    assert batch.problems == []
    first, second = batch.mentions
    assert (first.external_id, first.text, first.author, first.rating) == ("r1", "Broken, again", "ann", 1.0)
    assert first.created_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert first.source == "file"
    assert second.text == "multi\nline text"
    assert second.url is None


def test_bad_rows_are_reported_with_line_numbers_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(
        "id,text,created_at,rating\n"
        "a,fine,2024-05-01,4\n"
        "b,bad date,yesterday-ish,4\n"
        'c,"two\nlines",2024-05-01,x\n'
        "d,too,many,fields,here\n"
        "e,also fine,,\n",
        encoding="utf-8",
    )
    batch = read_file(path)
    assert [m.external_id for m in batch.mentions] == ["a", "e"]
    assert [str(p) for p in batch.problems] == [
        "line 3: created_at 'yesterday-ish' is not a date a post can have; "
        "use ISO 8601 like 2024-05-01T12:30:00Z or Unix seconds",
        "line 4: rating 'x' is not a number",
        "line 6: expected 4 fields as in the header, found 5",
    ]


def test_jsonl_bad_lines_and_column_mapping(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    lines = [
        json.dumps({"ticket": 1, "body": "Refund me", "stars": 2}),
        "{not json",
        "[1, 2]",
        json.dumps({"ticket": 2, "body": "ok"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = read_file(path, columns={"id": "ticket", "text": "body", "rating": "stars"})
    assert [(m.external_id, m.text, m.rating) for m in batch.mentions] == [
        ("1", "Refund me", 2.0),
        ("2", "ok", None),
    ]
    assert [p.line for p in batch.problems] == [2, 3]
    assert "not valid JSON" in batch.problems[0].message


def test_a_line_nested_thousands_deep_is_one_reported_row_and_the_good_rows_stay(tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    deep = '{"id": "x", "text": "deep", "raw": ' + "[" * 5000 + "]" * 5000 + "}"
    nested_65 = json.dumps({"id": "y", "text": "still too deep", "raw": json.loads("[" * 65 + "]" * 65)})
    nested_60 = json.dumps({"id": "z", "text": "deep but fine", "raw": json.loads("[" * 60 + "]" * 60)})
    lines = [
        json.dumps({"id": "a", "text": "before"}),
        deep,
        nested_65,
        nested_60,
        json.dumps({"id": "b", "text": "after"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = read_file(path)
    assert [m.external_id for m in batch.mentions] == ["a", "z", "b"]
    assert [p.line for p in batch.problems] == [2, 3]
    assert all("nested more than 64 levels" in p.message for p in batch.problems)


def test_missing_text_column_says_how_to_map_it(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,body\n1,hello\n", encoding="utf-8")
    batch = read_file(path)
    assert "--column text=COLUMN" in batch.problems[0].message


def test_rows_without_id_get_a_stable_content_id(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("text,author\nhello,ann\nhello,bob\n", encoding="utf-8")
    first = [m.external_id for m in read_file(path).mentions]
    assert first == [m.external_id for m in read_file(path).mentions]
    assert len(set(first)) == 2


def test_odd_text_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    big = "a" * 1_000_000
    path.write_bytes(
        b"id,text\n"
        b"empty,\n"
        + b"big,"
        + big.encode()
        + b"\n"
        + b"bytes,caf\xe9 broken\n"
        + "emoji,love it 😍🔥\n".encode()
        + "rtl,מוצר גרוע מאוד\n".encode()
    )
    batch = read_file(path)
    texts = {m.external_id: m.text for m in batch.mentions}
    assert batch.problems == []
    assert texts["empty"] == ""
    # Kept whole apart from the stored text, which is cut to the bound every mention has.
    assert len(texts["big"]) == MAX_TEXT_CHARS
    assert next(m.full_text for m in batch.mentions if m.external_id == "big") == big
    assert texts["bytes"] == "caf\ufffd broken"
    assert texts["emoji"] == "love it 😍🔥"
    assert texts["rtl"] == "מוצר גרוע מאוד"
    assert [w.line for w in batch.warnings] == [4]


def test_unknown_format_and_mapping_field_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="--format"):
        read_file(tmp_path / "x.xlsx")
    path = tmp_path / "x.csv"
    path.write_text("id,text\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="unknown field 'body'"):
        read_file(path, columns={"body": "text"})


@pytest.mark.parametrize(
    "value", ["99999999999999999", 1e20, "1e20", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]
)
def test_out_of_range_times_are_one_reported_row(tmp_path: Path, value: object) -> None:
    path = tmp_path / "reviews.jsonl"
    rows = [
        {"id": "good1", "text": "fine", "created_at": "2024-05-01T10:00:00Z"},
        {"id": "bad", "text": "odd time", "created_at": value},
        {"id": "good2", "text": "also fine", "created_at": 1714557600},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    batch = read_file(path)
    assert [m.external_id for m in batch.mentions] == ["good1", "good2"]
    (problem,) = batch.problems
    assert problem.line == 2 and "is not a date a post can have" in problem.message


def test_a_date_no_post_can_have_becomes_the_time_it_was_seen(tmp_path: Path) -> None:
    from monitor.mention import ORIGINAL_TIME_KEY, utcnow

    path = tmp_path / "reviews.csv"
    path.write_text(
        "id,text,created_at\nf,from the future,2030-01-01T00:00:00Z\np,prehistoric,1970-01-02T00:00:00Z\n"
        "ok,today,2024-05-01T10:00:00Z\n",
        encoding="utf-8",
    )
    before = utcnow()
    future, ancient, fine = read_file(path).mentions
    for clamped, given in ((future, "2030-01-01T00:00:00+00:00"), (ancient, "1970-01-02T00:00:00+00:00")):
        assert before <= clamped.created_at <= utcnow()
        assert clamped.raw is not None and clamped.raw[ORIGINAL_TIME_KEY] == given
    assert fine.created_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert fine.raw is None or ORIGINAL_TIME_KEY not in fine.raw


def test_a_repeated_id_keeps_the_first_row_and_reports_the_second(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("id,text\nr1,first words\nr2,other\nr1,second words\n", encoding="utf-8")
    batch = read_file(path)
    assert [(m.external_id, m.text) for m in batch.mentions] == [("r1", "first words"), ("r2", "other")]
    assert [str(p) for p in batch.problems] == [
        "line 4: id 'r1' is already on line 2; that row is kept and this one skipped"
        " (give each row its own id)"
    ]


@pytest.mark.parametrize("rating", ["0", "7", "10", "nan", "-1"])
def test_ratings_outside_one_to_five_stars_are_reported(tmp_path: Path, rating: str) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(f"id,text,rating\nr1,ok,{rating}\nr2,fine,4.5\n", encoding="utf-8")
    batch = read_file(path)
    assert [m.rating for m in batch.mentions] == [4.5]
    assert "is not 1 to 5 stars" in batch.problems[0].message


def test_import_streams_in_chunks_and_a_rerun_adds_what_an_interruption_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.collect import file_import
    from monitor.collect.file_import import import_file
    from monitor.store import mentions as store
    from monitor.store.engine import connect

    path = tmp_path / "reviews.csv"
    path.write_text(
        "id,text\n" + "".join(f'r{i},"review {i}\nsecond line"\n' for i in range(10)) + "bad\n",
        encoding="utf-8",
    )
    engine = connect(f"sqlite:///{tmp_path / 'g.db'}")
    real = file_import.import_batch
    calls: list[int] = []

    def dies_on_the_third_chunk(engine_: object, watch: str, batch: list[object]) -> object:
        calls.append(len(batch))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(engine, watch, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(file_import, "import_batch", dies_on_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        import_file(engine, "acme", path, chunk=3)
    assert calls == [3, 3, 3]
    assert store.count_mentions(engine) == 6  # the two finished chunks are kept

    monkeypatch.setattr(file_import, "import_batch", real)
    report = import_file(engine, "acme", path, chunk=3)
    assert (report.read, report.new) == (10, 4)
    assert [str(p) for p in report.problems] == ["line 22: expected 2 fields as in the header, found 1"]
    assert store.count_mentions(engine) == 10
    engine.dispose()
