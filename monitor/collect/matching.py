"""Keyword matching users can trust: case-insensitive, on word boundaries, after the server-side query."""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.mention import Mention, Watch


@lru_cache(maxsize=1024)
def _word_pattern(phrase: str) -> re.Pattern[str]:
    # \b fails next to non-word characters ("c++", "@acme"), so boundaries are "not a word character".
    words = [re.escape(part) for part in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def contains_phrase(text: str, phrase: str) -> bool:
    return _word_pattern(phrase).search(text) is not None


def matches(watch: Watch, mention: Mention, *, need_keyword: bool = False) -> bool:
    """Whether the mention belongs to the watch: all required words, no excluded word, a wanted language.

    Keywords are checked only when `need_keyword` (the page was a plain listing): otherwise the server
    already searched for them. A mention whose language is unknown is kept, so a complaint is never
    dropped for lack of a language tag.
    """
    haystack = f"{mention.title or ''}\n{mention.text}"
    if need_keyword and watch.keywords and not any(contains_phrase(haystack, k) for k in watch.keywords):
        return False
    if any(not contains_phrase(haystack, word) for word in watch.required):
        return False
    if any(contains_phrase(haystack, word) for word in watch.excluded):
        return False
    if watch.languages and mention.language:
        return mention.language.lower().split("-")[0] in watch.languages
    return True
