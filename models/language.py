"""Language flag for each text, cheap enough to run next to the model on every post."""

from __future__ import annotations

import re
import threading
from typing import Any

# Most posts are plainly English. Text written in Latin letters that uses two English
# function words is flagged without running the identifier, which costs ~0.5 ms a text (as
# much as the model). The words are ones that are rare as whole words in other Latin-script
# languages ("a", "in", "so", "was", "will", "on" are left out for that reason).
_EN_WORDS = frozenset(
    """
    the and is are were been you they this that these those of to for with from by not have has
    had would could should what when who how why there here about just my your our their it its
    i'm im don't dont can't it's i've i'll he she we them us be do does did get got
    """.split()  # noqa: SIM905 - a word list reads best as words
)
_WORD = re.compile(r"[a-z']+")
_NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]")
_NOISE = re.compile(r"\bhttp\b|@user|#\w+|[\d\W_]+")
MIN_LETTERS = 3
# Below this posterior the identifier is guessing; unknown is more honest than a wrong code.
MIN_CONFIDENCE = 0.5

# Restricting the candidates removes rare languages that short English-like posts are
# often mistaken for (Nigerian Pidgin, Bikol, ...).
LANGUAGES = """
    af ar bg bn ca cs cy da de el en es et fa fi fr ga gu he hi hr hu id it ja kn ko lt lv mk ml
    mr ms nl no pa pl pt ro ru sk sl so sq sv sw ta te th tl tr uk ur vi zh
""".split()  # noqa: SIM905

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


def _plainly_english(text: str, letters: str) -> bool:
    if len(_NON_ASCII_LETTER.findall(letters)) > len(letters) // 20:
        return False
    words = _WORD.findall(text.lower())
    hits = sum(1 for word in words if word in _EN_WORDS)
    return hits >= 2 or (hits == 1 and len(words) <= 4)


def detect(text: str) -> str | None:
    """ISO 639-1 code of a normalised text, or None when too short or too unsure."""
    letters = _NOISE.sub("", text)
    if len(letters) < MIN_LETTERS:
        return None
    if _plainly_english(text, letters):
        return "en"
    lang, confidence = _get_identifier().classify(text)
    if confidence < MIN_CONFIDENCE:
        return None
    return str(lang)
