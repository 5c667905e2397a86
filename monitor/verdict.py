"""The verdict: the one rule that turns what the model read in a text, a review's stars and the text's
language into the label the product acts on (inbox, digests, alerts, responder). A pure rule with
no imports from the package, so scoring (score/run.py) and ranking (ranking.py) both stand on it.

1. Stars speak first. A review of 1 or 2 stars is an unhappy customer, in any language and however
   politely worded: its label is negative and its urgency at least STAR_URGENCY. A review of 4 or 5
   stars is not a complaint: a text the model read as negative ("only one thing bugs me ...")
   becomes neutral (positive, if the text is in a language the model does not read), and its
   urgency is capped at HAPPY_URGENCY. 3 stars, or no stars, leave it to
   the text.
2. A text in a language the model does not read (it was trained on English) is labelled with its
   language and marked uncertain, never given a confident label. If it leans negative it is labelled
   negative so it reaches the inbox, flagged for a human to read; otherwise it is labelled with the
   best guess (never negative), flagged. Leaning: complaint cue words (score/cues.py) outnumber praise
   words; with no word either way, P(negative) at least NEGATIVE_LEANING or a negative best guess.
3. Otherwise the model's label stands.

Both halves are stored: `text_label` and the three probabilities are what the model read; `label`
and `basis` are this rule's outcome; the dashboard shows both.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

Basis = Literal["text", "stars", "language"]
COMPLAINT_STARS = 2.0  # at or below: a complaint
HAPPY_STARS = 4.0  # at or above: not a complaint
STAR_URGENCY = {1: 0.9, 2: 0.75}
HAPPY_URGENCY = 0.1
# Below P(negative) 0.5 the English model is guessing on another language; 0.25 keeps one in
# four such posts in front of a human rather than risk missing a complaint.
NEGATIVE_LEANING = 0.25
READ_LANGUAGES: frozenset[str] = frozenset({"en"})


@dataclass(frozen=True)
class Verdict:
    label: str  # negative / neutral / positive: what the product acts on
    text_label: str  # what the model read in the text alone
    basis: Basis  # what decided `label`
    language: str | None

    @property
    def uncertain(self) -> bool:
        return self.basis == "language"


def urgency(text_negative: float, rating: float | None) -> float:
    """How negative a mention counts for priority: the text's P(negative), moved by its stars."""
    if rating is None:
        return text_negative
    if rating <= COMPLAINT_STARS:
        return max(text_negative, STAR_URGENCY[1 if rating < 1.5 else 2])
    if rating >= HAPPY_STARS:
        return min(text_negative, HAPPY_URGENCY)
    return text_negative


def decide(
    text_label: str,
    text_negative: float,
    rating: float | None,
    language: str | None,
    read_languages: Collection[str] = READ_LANGUAGES,
    cue: int = 0,
) -> Verdict:
    """`cue`: cues.leaning of the text (-1 complaint words outnumber praise, +1 the reverse)."""
    if rating is not None and rating <= COMPLAINT_STARS:
        return Verdict("negative", text_label, "stars", language)
    unread = language is not None and language not in read_languages
    if rating is not None and rating >= HAPPY_STARS:
        if unread:
            return Verdict("positive", text_label, "stars", language)
        if text_label == "negative":
            return Verdict("neutral", text_label, "stars", language)
        return Verdict(text_label, text_label, "text", language)
    if unread:
        leaning = cue < 0 or (cue == 0 and (text_label == "negative" or text_negative >= NEGATIVE_LEANING))
        if leaning:
            return Verdict("negative", text_label, "language", language)
        guess = "positive" if cue > 0 else "neutral" if text_label == "negative" else text_label
        return Verdict(guess, text_label, "language", language)
    return Verdict(text_label, text_label, "text", language)


def explain(label: str, text_label: str, basis: str, language: str | None, rating: float | None) -> str:
    """One sentence for the dashboard: why a stored label is what it is ("" when the text decided)."""
    if basis == "stars":
        stars = f"{rating:g}-star review" if rating is not None else "review"
        if label == text_label:
            return f"{stars}; the text reads {text_label} too"
        return f"{stars}: the stars decide (the text alone reads {text_label})"
    if basis == "language":
        lean = " and leans negative, so it is in the inbox to be read" if label == "negative" else ""
        return (
            f"written in {language or 'another language'}, which the model does not read: label uncertain"
            f" (the model guessed {text_label}){lean}"
        )
    return ""
