"""Each unhappy mention's sentence vector: made once by the encoder, stored, read back by refits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, Engine

from models.embedding import Embedder
from monitor.store import topic_vectors
from monitor.store.topic_vectors import Vector
from monitor.store.topics import UnhappyMention


def load_embedder() -> Embedder:
    # Imported here: onnxruntime takes a second to import, and most commands never embed.
    from models.embedding import OnnxEmbedder

    return OnnxEmbedder.load()


class EmbedderHolder:
    """Loads the encoder on first use, once, whichever job asks first."""

    def __init__(self, loader: Callable[[], Embedder] = load_embedder) -> None:
        self._loader = loader
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()

    def get(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = self._loader()
            return self._embedder


def vectors_for(
    connection: Connection, embedder: Embedder, found: Sequence[UnhappyMention], now: datetime
) -> np.ndarray:
    """The vectors of `found`, in its order: stored ones read, the others made and stored."""
    ids = [m.id for m in found]
    stored: dict[int, Vector] = topic_vectors.stored_vectors(connection, ids, embedder.version)
    missing = [m for m in found if m.id not in stored]
    if missing:
        made = embedder.embed([m.text for m in missing])
        fresh = {m.id: made[row] for row, m in enumerate(missing)}
        topic_vectors.save_vectors(connection, fresh, embedder.version, now)
        stored.update(fresh)
    if not ids:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([stored[i] for i in ids]).astype(np.float32)


def embed_phrases(embedder: Embedder, phrases: Sequence[str]) -> np.ndarray:
    """Seed topics as vectors: a seed word reads as a complaint about it, as mentions do."""
    return embedder.embed([f"complaint about {phrase}" for phrase in phrases])


def store_missing(
    engine: Engine, embedder: Embedder, found: Sequence[UnhappyMention], now: datetime, chunk: int = 256
) -> int:
    """Embed and store the vectors `found` lacks, a chunk per short transaction, before a refit: the
    refit's own transaction then only reads them, and never holds the store while the encoder runs."""
    made = 0
    for first in range(0, len(found), chunk):
        part = found[first : first + chunk]
        with engine.connect() as connection:
            have = topic_vectors.stored_vectors(connection, [m.id for m in part], embedder.version)
        missing = [m for m in part if m.id not in have]
        if not missing:
            continue
        vectors = embedder.embed([m.text for m in missing])
        with engine.begin() as connection:
            topic_vectors.save_vectors(
                connection, {m.id: vectors[row] for row, m in enumerate(missing)}, embedder.version, now
            )
        made += len(missing)
    return made
