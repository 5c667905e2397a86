"""A topic's name: its most distinctive words and phrases against the watch's other topics (c-TF-IDF),
e.g. "refund · charged twice · billing". Stop words, the watch's own brand words (its keywords, brand
and product: every complaint names them, so they tell topics apart by nothing), handles, URLs and
redaction marks never make a name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from models.embedding import clean_for_topics

TERMS_IN_NAME = 3
SEPARATOR = " · "
# Words every complaint uses whatever it is about; they would name every topic alike.
_FILLER_WORDS = """
just like get got really would also even one still thing things use used using im ive dont didnt
doesnt cant wont isnt wasnt thats theyre youre lol ok okay please thanks thank app company service
customer customers time times day days said told say says going want make made need know think
"""
FILLER = frozenset(_FILLER_WORDS.split())
_WORD = re.compile(r"[a-z][a-z'&]+")


def brand_words(phrases: Iterable[str]) -> set[str]:
    """The words of a watch's keywords, brand and product, lowercased (with and without a plural s)."""
    words: set[str] = set()
    for phrase in phrases:
        for word in _WORD.findall(phrase.lower()):
            words |= {word, word.rstrip("s"), word + "s"}
    return words


def name_clusters(
    texts: Sequence[str], labels: Sequence[int] | npt.NDArray[np.int64], k: int, excluded: Iterable[str] = ()
) -> list[str]:
    """One name per cluster 0..k-1 from the texts in it; a cluster too small to name gets "topic N"."""
    from sklearn.feature_extraction.text import (  # type: ignore[import-untyped]
        ENGLISH_STOP_WORDS,
        CountVectorizer,
    )

    stop = set(ENGLISH_STOP_WORDS) | FILLER | set(excluded)
    documents = [""] * k
    grouped: list[list[str]] = [[] for _ in range(k)]
    for text, label in zip(texts, labels, strict=True):
        grouped[int(label)].append(clean_for_topics(text).lower().replace("'", ""))
    documents = [" \n ".join(group) for group in grouped]
    vectorizer = CountVectorizer(
        stop_words=sorted(stop), ngram_range=(1, 2), min_df=1, token_pattern=r"(?u)\b[a-z][a-z&]{2,}\b"
    )
    try:
        counts = vectorizer.fit_transform(documents).toarray().astype(np.float64)
    except ValueError:  # nothing but stop words
        return [f"topic {i + 1}" for i in range(k)]
    terms = vectorizer.get_feature_names_out()
    # A term must recur to name a topic: once is one person's word, not the topic's.
    counts[counts < 2] = 0
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    average = counts.sum() / max(k, 1)
    idf = np.log1p(average / np.maximum(counts.sum(axis=0), 1.0))
    scores = tf * idf
    names = [_name(scores[i], terms) or f"topic {i + 1}" for i in range(k)]
    return _distinct(names, scores, terms)


def _name(row: np.ndarray, terms: Sequence[str], count: int = TERMS_IN_NAME) -> str:
    picked: list[str] = []
    for index in np.argsort(-row, kind="stable"):
        if row[index] <= 0 or len(picked) == count:
            break
        term = str(terms[index])
        # "charged twice" already says "charged": one of them, the phrase first.
        if any(term in chosen.split() or chosen in term.split() for chosen in picked):
            continue
        if any(set(term.split()) & set(chosen.split()) for chosen in picked):
            continue
        picked.append(term)
    return SEPARATOR.join(picked)


def _distinct(names: list[str], scores: np.ndarray, terms: Sequence[str]) -> list[str]:
    """Two topics with the same name each get one more term."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            names[i] = _name(scores[i], terms, TERMS_IN_NAME + 1) or f"{name} ({i + 1})"
        seen[names[i]] = i
    return names
