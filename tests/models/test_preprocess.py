from __future__ import annotations

import pytest

from models.preprocess import MAX_CHARS_HEAD, MAX_CHARS_TAIL, normalise


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("see https://t.co/abc?x=1 now", "see http now"),
        ("www.example.com/page is down", "http is down"),
        ("@Acme_Support fix this", "@user fix this"),
        ("mail me at a@b.com", "mail me at a@b.com"),
        ("Fish &amp; chips &lt;3 &quot;ok&quot;", 'Fish & chips <3 "ok"'),
        ("  lots \n\t of   space ", "lots of space"),
        ("I\\u2019m fine", "I\u2019m fine"),
        ("worst 😡😡😡", "worst pouting face"),
        ("nice 👍🏽", "nice thumbs up sign"),
        ("", ""),
        (" \n\t ", ""),
    ],
)
def test_normalise(raw: str, clean: str) -> None:
    assert normalise(raw) == clean


def test_pictographs_can_be_dropped_instead_of_named() -> None:
    assert normalise("worst 😡 ever", spell_pictographs=False) == "worst ever"


def test_lone_surrogates_are_replaced() -> None:
    out = normalise("bad \ud800 text \udfff")
    out.encode("utf-8")  # would raise on a lone surrogate
    assert out.startswith("bad") and out.endswith("\ufffd")


def test_huge_text_keeps_both_ends() -> None:
    text = "START " + "x " * 500_000 + " END"
    out = normalise(text)
    assert len(out) <= MAX_CHARS_HEAD + MAX_CHARS_TAIL + 10
    assert out.startswith("START") and out.endswith("END")


def test_rtl_and_accents_survive() -> None:
    assert normalise("שירות גרוע") == "שירות גרוע"
    assert normalise("خدمة سيئة جدا") == "خدمة سيئة جدا"
    assert normalise("très mauvais") == "très mauvais"
