"""A fast stand-in encoder and small complaint corpora for the topic tests.

`WordEmbedder` gives each word a fixed random direction (from its hash) and a text the mean of its
words': texts about the same reason share words and land together, as the real encoder's do, in
microseconds and without the model. One test (test_encoder.py) runs the real encoder."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import Engine

from models.embedding import clean_for_topics
from monitor.mention import Watch
from tests.alerts.conftest import NOW, Spec, add_mentions

DIM = 48
_IGNORED = {"about", "the", "a", "my", "i", "and", "to", "is", "it", "was", "again", "complaint"}

# Three reasons to complain, each with its own words; every text also names the brand.
REASONS = {
    "refund": "refund refunded money back charged twice billing invoice card",
    "login": "login password locked account reset code signin",
    "delivery": "delivery parcel courier late arrived package shipping",
}


class WordEmbedder:
    version = "words-v1"
    dim = DIM

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w for w in clean_for_topics(text).lower().split() if w not in _IGNORED]
            for word in words:
                out[row] += _direction(word.strip(".,!?"))
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else _direction("")
        return out


def _direction(word: str) -> npt.NDArray[np.float32]:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def embedder() -> WordEmbedder:
    return WordEmbedder()


WATCH = Watch(name="acme", keywords=("acme",), topics=("refund",))


def complaint(reason: str, rng: random.Random) -> str:
    words = REASONS[reason].split()
    picked = rng.sample(words, 4)
    return f"@acmehelp acme {' '.join(picked)} https://acme.example/x so annoyed"


def add_corpus(
    engine: Engine,
    per_reason: int = 40,
    *,
    start: int = 1,
    seed: int = 0,
    order_seed: int | None = None,
    created_at: dt.datetime | None = None,
    reasons: Sequence[str] = tuple(REASONS),
) -> dict[str, list[int]]:
    """Store `per_reason` negative mentions per reason; returns {reason: ids}. `order_seed` shuffles
    the order they are stored in (so their ids), not their texts."""
    rng = random.Random(seed)
    specs = []
    for r, reason in enumerate(reasons):
        for i in range(per_reason):
            n = start + r * 1000 + i
            specs.append((reason, Spec(n, text=complaint(reason, rng), created_at=created_at or NOW)))
    if order_seed is not None:
        random.Random(order_seed).shuffle(specs)
    ids = add_mentions(engine, [spec for _, spec in specs])
    found: dict[str, list[int]] = {}
    for (reason, _), mention_id in zip(specs, ids, strict=True):
        found.setdefault(reason, []).append(mention_id)
    return found
