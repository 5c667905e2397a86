"""Scoring stores what the model read and the verdict (stars, language) beside it, and the inbox
acts on the verdict. A stand-in model with fixed scores keeps this fast; test_bundled runs the real one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from models import Score
from monitor.score.run import score_pending
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions
from monitor.store.schema import mentions
from monitor.surface.inbox import inbox_rows
from tests.factories import mention

READS = {
    "Me cobraron dos veces y nadie responde.": Score("neutral", 0.32, 0.55, 0.13, "es"),
    "Service was fine, thanks.": Score("positive", 0.02, 0.18, 0.80, "en"),
    "Only one thing bugs me: the dark mode.": Score("negative", 0.70, 0.20, 0.10, "en"),
    "The store opens at 9.": Score("neutral", 0.05, 0.90, 0.05, "en"),
}


class FixedModel:
    version = "fixed-1"
    languages = frozenset({"en"})

    def predict(self, texts: Sequence[str]) -> list[Score]:
        return [READS[text] for text in texts]


def stored(engine: Engine) -> dict[str, tuple[str, str, str]]:
    c = mentions.c
    with engine.connect() as connection:
        rows = connection.execute(select(c.text, c.label, c.text_label, c.label_basis)).all()
    return {row.text: (row.label, row.text_label, row.label_basis) for row in rows}


def test_stars_and_language_decide_the_label_and_both_are_stored(sqlite_engine: Engine) -> None:
    import_mentions(
        sqlite_engine,
        "acme",
        [
            mention(1, text="Me cobraron dos veces y nadie responde."),
            mention(2, text="Service was fine, thanks.", rating=1.0, source="appstore"),
            mention(3, text="Only one thing bugs me: the dark mode.", rating=5.0, source="appstore"),
            mention(4, text="The store opens at 9."),
        ],
    )
    assert score_pending(sqlite_engine, FixedModel()) == 4
    assert stored(sqlite_engine) == {
        "Me cobraron dos veces y nadie responde.": ("negative", "neutral", "language"),
        "Service was fine, thanks.": ("negative", "positive", "stars"),
        "Only one thing bugs me: the dark mode.": ("neutral", "negative", "stars"),
        "The store opens at 9.": ("neutral", "neutral", "text"),
    }
    inbox = inbox_rows(sqlite_engine, MentionFilter(labels=["negative"], triage=["open"]))
    assert [row.text for row in inbox] == [
        "Service was fine, thanks.",  # 1 star: urgency 0.9, above the uncertain Spanish post's 0.32
        "Me cobraron dos veces y nadie responde.",
    ]
    spanish = inbox[1]
    assert spanish.uncertain and spanish.language == "es"
    assert "does not read" in spanish.why()
    assert inbox[0].why() == "1-star review: the stars decide (the text alone reads positive)"
