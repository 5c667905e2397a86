"""The verdict rule: stars first, then the text's language, then the text (monitor/verdict.py)."""

from __future__ import annotations

import ast

import pytest

from monitor.ranking import priority_from_key, rank_key
from monitor.score.cues import leaning
from monitor.verdict import NEGATIVE_LEANING, decide, explain, urgency
from tests.conftest import REPO
from tests.factories import BASE_TIME


@pytest.mark.parametrize(
    ("text_label", "negative", "rating", "language", "label", "basis"),
    [
        # A 1- or 2-star review is a complaint whatever the text reads or is written in.
        ("positive", 0.05, 1.0, "en", "negative", "stars"),
        ("neutral", 0.20, 2.0, "es", "negative", "stars"),
        ("negative", 0.90, 2.0, "en", "negative", "stars"),
        # A 4- or 5-star review is not a complaint.
        ("negative", 0.70, 5.0, "en", "neutral", "stars"),
        ("negative", 0.70, 4.0, "de", "positive", "stars"),
        ("positive", 0.01, 5.0, "en", "positive", "text"),
        ("neutral", 0.10, 4.0, "en", "neutral", "text"),
        # 3 stars, or none, leave it to the text; another language makes it uncertain.
        ("negative", 0.80, 3.0, "en", "negative", "text"),
        ("neutral", 0.30, None, "es", "negative", "language"),
        ("neutral", NEGATIVE_LEANING - 0.01, None, "fr", "neutral", "language"),
        ("negative", 0.10, None, "fr", "negative", "language"),
        ("positive", 0.02, 3.0, "de", "positive", "language"),
        ("neutral", 0.40, None, "en", "neutral", "text"),
        ("neutral", 0.40, None, None, "neutral", "text"),
    ],
)
def test_the_rule(
    text_label: str, negative: float, rating: float | None, language: str | None, label: str, basis: str
) -> None:
    verdict = decide(text_label, negative, rating, language)
    assert (verdict.label, verdict.basis, verdict.text_label) == (label, basis, text_label)
    assert verdict.uncertain == (basis == "language")


def test_a_multilingual_model_reads_other_languages() -> None:
    assert decide("neutral", 0.3, None, "es", read_languages={"en", "es"}).basis == "text"


def test_stars_move_urgency_and_so_priority() -> None:
    assert urgency(0.05, 1.0) == 0.9 and urgency(0.05, 2.0) == 0.75 and urgency(0.95, 1.0) == 0.95
    assert urgency(0.8, 5.0) == 0.1 and urgency(0.05, 5.0) == 0.05
    assert urgency(0.4, 3.0) == 0.4 and urgency(0.4, None) == 0.4
    polite_one_star = priority_from_key(rank_key(0.05, BASE_TIME, rating=1.0), BASE_TIME)
    angry_five_star = priority_from_key(rank_key(0.9, BASE_TIME, rating=5.0), BASE_TIME)
    assert polite_one_star > angry_five_star


def test_explanations_say_what_decided() -> None:
    assert explain("negative", "positive", "stars", "en", 1.0) == (
        "1-star review: the stars decide (the text alone reads positive)"
    )
    assert "does not read" in explain("negative", "neutral", "language", "es", None)
    assert "inbox" in explain("negative", "neutral", "language", "es", None)
    assert explain("neutral", "neutral", "text", "en", None) == ""


@pytest.mark.parametrize(
    ("text", "language", "cue"),
    [
        ("¡Pésimo servicio! Acme me cobró dos veces y nadie responde.", "es", -1),
        ("Acme est inutilisable depuis la mise à jour, je perds mes notes.", "fr", -1),
        ("Acme ist wirklich super, endlich eine App die funktioniert.", "de", 1),
        ("PESIMO, no funciona", "es", -1),
        ("Acme hat heute ein Update veröffentlicht.", "de", 0),
        ("terrible service", "en", 0),  # English is the model's to read
        ("nie", None, 0),
    ],
)
def test_cue_words_for_languages_the_model_does_not_read(text: str, language: str | None, cue: int) -> None:
    assert leaning(text, language) == cue


def test_cue_words_outvote_a_guess_the_model_cannot_make() -> None:
    # German praise the English model reads as negative: not sent to the inbox as a complaint.
    praise = decide("negative", 0.5, None, "de", cue=1)
    assert (praise.label, praise.basis) == ("positive", "language")
    # A Spanish complaint the model reads as neutral with P(negative) 0.05: still reaches the inbox.
    complaint = decide("neutral", 0.05, None, "es", cue=-1)
    assert (complaint.label, complaint.basis) == ("negative", "language")
    # Nothing either way: the model's lean decides, but a negative guess alone is enough.
    assert decide("negative", 0.2, None, "it").label == "negative"
    assert decide("positive", 0.1, None, "it").label == "positive"


def _imported(path: str) -> set[str]:
    """The modules a file imports, at the top or inside functions."""
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    found = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return found | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


def test_the_verdict_rule_stands_below_scoring_and_ranking() -> None:
    assert not {name for name in _imported("monitor/verdict.py") if name.startswith("monitor")}
    assert "monitor.verdict" in _imported("monitor/ranking.py")
    assert not {name for name in _imported("monitor/ranking.py") if name.startswith("monitor.score")}
    # The command line's two long-running modules: `up` (service.py) runs what `run` (workers.py) runs.
    assert "monitor.cli.workers" in _imported("monitor/cli/service.py")
    assert "monitor.cli.service" not in _imported("monitor/cli/workers.py")
