"""Language flag for each text, cheap enough to run next to the model on every post."""

from __future__ import annotations

import re
import threading
from typing import Any

# Most posts are plainly English: ASCII text with a common English function word is
# flagged without running the identifier (which costs ~0.5 ms a text, as much as the model).
_EN_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "me",
        "my",
        "your",
        "his",
        "her",
        "our",
        "their",
        "this",
        "that",
        "these",
        "those",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "not",
        "no",
        "so",
        "if",
        "just",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "what",
        "when",
        "who",
        "how",
        "why",
        "there",
        "here",
        "all",
        "about",
        "get",
        "got",
        "like",
        "im",
        "dont",
        "its",
    ]
)
_WORD = re.compile(r"[a-z']+")
_NOISE = re.compile(r"\bhttp\b|@user|#\w+|[\d\W_]+", re.UNICODE)
MIN_LETTERS = 3
# Below this posterior the identifier is guessing; unknown is more honest than a wrong code.
MIN_CONFIDENCE = 0.5

# Restricting the candidates removes rare languages that short English-like posts are
# often mistaken for (Nigerian Pidgin, Bikol, ...).
LANGUAGES = [
    "af",
    "ar",
    "bg",
    "bn",
    "ca",
    "cs",
    "cy",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fa",
    "fi",
    "fr",
    "ga",
    "gu",
    "he",
    "hi",
    "hr",
    "hu",
    "id",
    "it",
    "ja",
    "kn",
    "ko",
    "lt",
    "lv",
    "mk",
    "ml",
    "mr",
    "ms",
    "nl",
    "no",
    "pa",
    "pl",
    "pt",
    "ro",
    "ru",
    "sk",
    "sl",
    "so",
    "sq",
    "sv",
    "sw",
    "ta",
    "te",
    "th",
    "tl",
    "tr",
    "uk",
    "ur",
    "vi",
    "zh",
]

_identifier: Any = None
_lock = threading.Lock()


def _get_identifier() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

            ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            ident.set_languages(LANGUAGES)
            _identifier = ident
    return _identifier


def detect(text: str) -> str | None:
    """ISO 639-1 code of a normalised text, or None when too short or too unsure."""
    letters = _NOISE.sub("", text)
    if len(letters) < MIN_LETTERS:
        return None
    if text.isascii():
        words = _WORD.findall(text.lower())
        if any(word in _EN_WORDS for word in words):
            return "en"
    lang, confidence = _get_identifier().classify(text)
    if confidence < MIN_CONFIDENCE:
        return None
    return str(lang)
