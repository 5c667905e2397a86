"""Play Console review exports through `grumble import` (monitor/sources/play_console.py via tabular.py).

The export's columns and encoding are Google's (UTF-16 with a byte-order mark; the 16 columns of
reviews_<package>_<YYYYMM>.csv); the rows below are written here in that shape. The point of the mapping
is that a review imported from the file and the same review collected from the API are one review.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from monitor.cli.parser import main
from monitor.mention import Watch
from monitor.sources.base import SourceSettings
from monitor.sources.google_play import GooglePlaySource, review_url
from monitor.sources.http import build_client
from monitor.sources.play_console import COLUMNS, review_id_from_link
from monitor.sources.quota import MemoryQuotaLedger
from monitor.sources.tabular import read_file
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.sources.fakes import load_fixture
from tests.sources.google_fakes import PACKAGE, SERVICE_ACCOUNT_JSON, FakeGooglePlay
from tests.support.http_replay import ReplayServer

NEW_LINK = (
    "http://play.google.com/console/developers/5550000000000000000/app/4970000000000000000/"
    "user-feedback/review-details?reviewId=gp%3AAOqpTOacme0000&corpus=PUBLIC_REVIEWS"
)
OLD_LINK = "http://play.google.com/apps/publish?account=5550000#ReviewDetailsPlace:p=com.acme.app&reviewid=gp:AOqpTOold1"


def row(**values: str) -> dict[str, str]:
    base = dict.fromkeys(COLUMNS, "")
    base.update(
        {
            "Package Name": PACKAGE,
            "App Version Code": "4200",
            "App Version Name": "4.2.0",
            "Reviewer Language": "en",
            "Device": "a52q",
            "Review Submit Date and Time": "2026-10-01T09:00:00Z",
            "Review Submit Millis Since Epoch": "1790845200000",
            "Review Last Update Date and Time": "2026-10-02T09:00:00Z",
            "Review Last Update Millis Since Epoch": "1790931600000",
            "Star Rating": "1",
        }
    )
    base.update(values)
    return base


ROWS = [
    row(
        **{
            "Review Title": "Logs me out",
            "Review Text": "The Acme app logged me out, again,\nthree times today.",
            "Developer Reply Date and Time": "2026-10-03T09:00:00Z",
            "Developer Reply Millis Since Epoch": "1791018000000",
            "Developer Reply Text": "Sorry! Fixed in 4.2.1 😄",
            "Review Link": NEW_LINK,
        }
    ),
    row(
        **{"Star Rating": "5", "Review Text": "Très bien", "Reviewer Language": "fr", "Review Link": OLD_LINK}
    ),
    row(**{"Star Rating": "2", "Device": "x1q"}),  # a rating without a written review: no link
    row(**{"Star Rating": "0", "Review Text": "bad row", "Review Link": NEW_LINK.replace("0000&", "0009&")}),
]


def export(path: Path, rows: list[dict[str, str]], encoding: str = "utf-16") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))  # "utf-16" writes the byte-order mark
    return path


def test_a_utf16_export_is_recognised_by_its_header(tmp_path: Path) -> None:
    path = export(tmp_path / "reviews_com.acme.app_202610.csv", ROWS)
    assert path.read_bytes()[:2] == b"\xff\xfe"

    batch = read_file(path)

    first, second, stars_only = batch.mentions
    assert [m.source for m in batch.mentions] == ["google_play"] * 3
    assert first.external_id == "gp:AOqpTOacme0000" and second.external_id == "gp:AOqpTOold1"
    assert (
        first.title == "Logs me out"
        and first.text == "The Acme app logged me out, again,\nthree times today."
    )
    assert (
        first.rating == 1 and first.language == "en" and first.url == review_url(PACKAGE, "gp:AOqpTOacme0000")
    )
    assert first.created_at.isoformat() == "2026-10-02T09:00:00+00:00"  # its last update, as from the API
    play: Any = first.raw["play"]  # type: ignore[index]
    assert play["developer_reply"] == {
        "text": "Sorry! Fixed in 4.2.1 😄",
        "last_modified": "2026-10-03T09:00:00+00:00",
    }
    assert play["package_name"] == PACKAGE and play["device"] == "a52q" and play["app_version_code"] == 4200
    assert play["submitted_at"] == "2026-10-01T09:00:00+00:00"
    assert second.text == "Très bien" and second.language == "fr"
    assert stars_only.text == "" and stars_only.rating == 2 and stars_only.external_id.startswith("play-csv:")
    (problem,) = batch.problems
    assert problem.line == 6 and "Star Rating '0' is not 1 to 5" in problem.message
    assert batch.warnings == []


def test_the_rating_only_id_is_stable_across_monthly_files(tmp_path: Path) -> None:
    october = read_file(export(tmp_path / "a.csv", [ROWS[2]])).mentions[0]
    november = read_file(
        export(tmp_path / "b.csv", [{**ROWS[2], "Review Last Update Millis Since Epoch": "1793000000000"}])
    )
    assert november.mentions[0].external_id == october.external_id


def test_format_play_console_reads_a_utf8_copy_too(tmp_path: Path) -> None:
    path = export(tmp_path / "reviews.txt", ROWS[:1], encoding="utf-8")
    batch = read_file(path, file_format="play-console")
    assert [m.external_id for m in batch.mentions] == ["gp:AOqpTOacme0000"]


def test_any_utf16_csv_imports_with_the_plain_mapping(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_bytes("id,text,rating\ns1,Acme é bom,4\n".encode("utf-16"))
    (mention,) = read_file(path).mentions
    assert (mention.source, mention.external_id, mention.text, mention.rating) == (
        "file",
        "s1",
        "Acme é bom",
        4.0,
    )


@pytest.mark.parametrize(
    ("link", "review_id"),
    [
        (NEW_LINK, "gp:AOqpTOacme0000"),
        (OLD_LINK, "gp:AOqpTOold1"),
        ("https://play.google.com/store/apps/details?id=com.acme.app&reviewId=gp%3Ax", "gp:x"),
        ("https://example.com/nothing", None),
        (None, None),
    ],
)
def test_review_ids_from_links(link: str | None, review_id: str | None) -> None:
    assert review_id_from_link(link) == review_id


def test_a_review_imported_and_then_collected_from_the_api_is_stored_once(
    tmp_path: Path, engine: Engine, replay_server: ReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = export(tmp_path / "reviews_com.acme.app_202610.csv", ROWS)
    code = main(["--database", str(engine.url), "import", str(path), "--watch", "acme", "--no-score"])
    out, err = capsys.readouterr()
    assert code == 0 and "imported 3 new mentions" in out and "line 6" in err

    fake = FakeGooglePlay(replay_server)
    fake.reviews = load_fixture("google_play")["items"][:1]  # the review whose id is in NEW_LINK
    settings = SourceSettings(
        "google_play",
        base_url=replay_server.url,
        options={"service_account_json": SERVICE_ACCOUNT_JSON, "token_url": f"{replay_server.url}/token"},
    )
    source = GooglePlaySource(settings, build_client(settings, replay_server.url), ledger=MemoryQuotaLedger())
    (collected,) = source.fetch(
        Watch(name="acme", sources={"google_play": {"package_names": [PACKAGE]}}), None
    ).mentions
    assert collected.external_id == "gp:AOqpTOacme0000" and collected.url == review_url(
        PACKAGE, "gp:AOqpTOacme0000"
    )
    import_mentions(engine, "acme", [collected])

    stored = [r for r in iter_all(engine, MentionFilter()) if r["source"] == "google_play"]
    assert sorted(r["external_id"] for r in stored).count("gp:AOqpTOacme0000") == 1
    assert len(stored) == 3
