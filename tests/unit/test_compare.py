"""Share of voice: the competitors setting and its checks, and the comparison's figures and terms."""

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.store.compare import WatchVolume
from monitor.surface.compare import brand_watches, compare, figures, ignored_words
from monitor.surface.shares import points
from monitor.surface.trends import top_terms
from tests.factories import BASE_TIME, watch

THREE = (
    "[[watches]]\nname = 'acme'\n{acme}\n"
    "[[watches]]\nname = 'globex'\n{globex}\n"
    "[[watches]]\nname = 'initech'\n"
)


def config_with(tmp_path: Path, acme: str = "", globex: str = "", extra: str = "") -> Path:
    path = tmp_path / "grumble.toml"
    path.write_text(THREE.format(acme=acme, globex=globex) + extra, encoding="utf-8")
    return path


def test_a_brand_lists_its_competitors_even_ones_defined_after_it(tmp_path: Path) -> None:
    config = load_config(config_with(tmp_path, acme="competitors = ['globex', 'initech']"), environ={})
    assert config.watch("acme").competitors == ("globex", "initech")
    assert config.watch("globex").competitors == ()
    assert [w.name for w in brand_watches(config.watches)] == ["acme"]


@pytest.mark.parametrize(
    ("acme", "globex", "message"),
    [
        (
            "competitors = ['nope']",
            "",
            r"watches\[0\]\.competitors: expected names of configured watches \(acme, globex, initech\), "
            r"found str 'nope'",
        ),
        (
            "competitors = ['acme']",
            "",
            r"watches\[0\]\.competitors: expected other watches' names \(a watch is not its own competitor: "
            r"remove 'acme'\)",
        ),
        (
            "competitors = ['globex', 'globex']",
            "",
            r"expected each competitor named once, found str 'globex'",
        ),
        (
            "competitors = ['globex']",
            "competitors = ['acme']",
            r"watches\[1\]\.competitors: competitors go round in a cycle \(acme → globex → acme\); list "
            r"competitors on the brand watch only: remove 'acme' from the competitors of 'globex'",
        ),
        ("competitors = 3", "", r"watches\[0\]\.competitors: expected a list of strings, found int 3"),
    ],
)
def test_bad_competitors_name_the_key_and_the_fix(
    tmp_path: Path, acme: str, globex: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(config_with(tmp_path, acme, globex), environ={})


def test_a_longer_cycle_is_found_and_a_chain_is_not_one(tmp_path: Path) -> None:
    chain = "[[watches]]\nname = 'a'\ncompetitors = ['b']\n[[watches]]\nname = 'b'\ncompetitors = ['c']\n"
    path = tmp_path / "grumble.toml"
    path.write_text(chain + "[[watches]]\nname = 'c'\n", encoding="utf-8")
    assert load_config(path, environ={}).watch("b").competitors == ("c",)
    path.write_text(chain + "[[watches]]\nname = 'c'\ncompetitors = ['a']\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"watches\[2\]\.competitors: .*\(a → b → c → a\).* from the competitors of 'c'"
    ):
        load_config(path, environ={})


def test_a_digest_may_include_the_comparison_only_with_a_brand_among_its_watches(tmp_path: Path) -> None:
    digest = "[[digests]]\nname = 'd'\nrecipients = ['a@example.com']\ninclude_comparison = true\n"
    brand = "competitors = ['globex']"
    config = load_config(config_with(tmp_path, acme=brand, extra=digest), environ={})
    assert config.digests[0].include_comparison
    assert (
        not load_config(config_with(tmp_path, acme=brand, extra=digest.replace("true", "false")), environ={})
        .digests[0]
        .include_comparison
    )
    for extra in (digest, digest + "watches = ['globex']\n"):
        acme = brand if "watches" in extra else ""
        with pytest.raises(
            ConfigError, match=r"digests\[0\]\.include_comparison: expected false, or a brand watch"
        ):
            load_config(config_with(tmp_path, acme=acme, extra=extra), environ={})


def test_shares_of_voice_add_up_and_a_silent_watch_has_zeros() -> None:
    group = ("acme", "globex", "initech")
    now = figures(
        group, [WatchVolume("acme", 60, 30), WatchVolume("globex", 40, 4), WatchVolume("other", 900, 0)]
    )
    assert now["acme"].share_of_voice == pytest.approx(0.6)
    assert now["globex"].share_of_voice == pytest.approx(0.4)
    assert now["initech"].total == 0 and now["initech"].share_of_voice == 0.0
    assert now["initech"].negative_share is None
    assert now["acme"].negative_share == pytest.approx(0.5)
    assert figures(group, [])["acme"].share_of_voice is None


def test_comparison_against_the_period_before() -> None:
    start = BASE_TIME
    terms = {"acme": top_terms(["refund please", "refund now"], ["refund"])}
    comparison = compare(
        "acme",
        ("acme", "globex"),
        start,
        start + timedelta(days=7),
        current=[WatchVolume("acme", 30, 15), WatchVolume("globex", 70, 7)],
        previous=[WatchVolume("acme", 50, 10), WatchVolume("globex", 50, 10)],
        terms=terms,
    )
    acme, globex = comparison.rows
    assert acme.is_brand and not globex.is_brand
    assert comparison.previous_start == start - timedelta(days=7)
    assert acme.volume_change == -20
    assert acme.share_of_voice_change == pytest.approx(-0.2)
    assert points(acme.share_of_voice_change) == "-20 pts"
    assert points(acme.negative_share_change) == "+30 pts"  # 50% against 20%
    assert points(globex.negative_share_change) == "-10 pts"
    assert [(t.term, t.count, t.previous) for t in acme.terms] == [("refund", 2, 1), ("please", 1, 0)]
    assert globex.terms == ()
    assert not comparison.quiet
    assert compare("acme", ("acme", "globex"), start, start, [], [], {}).quiet
    assert points(None) == "-"


def test_complaint_terms_leave_out_every_group_watchs_names_and_keywords() -> None:
    group = [watch("acme", keywords=("Acme App",), brand="AcmeCorp"), watch("globex", keywords=("globex",))]
    ignore = ignored_words(group)
    texts = ["Acme app crashes, switching to Globex", "AcmeCorp crashes again and the app is slow"]
    found = [(t.term, t.count) for t in top_terms(texts, [], ignore=ignore)]
    assert found[0] == ("crashes", 2)
    assert set(found[1:]) == {("switching", 1), ("slow", 1)}  # "again", "and", "the", "is": stop words
