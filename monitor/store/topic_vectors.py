"""Each mention's sentence vector (monitor/topics/embed.py makes them): float32 bytes with the encoder
version that made them, so a vector of another version is made again, never compared."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, delete, insert, select

from monitor.store.schema import mention_embeddings

Vector = npt.NDArray[np.float32]


def to_bytes(vector: Vector) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> Vector:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def stored_vectors(connection: Connection, mention_ids: Collection[int], version: str) -> dict[int, Vector]:
    rows = connection.execute(
        select(mention_embeddings.c.mention_id, mention_embeddings.c.vector).where(
            mention_embeddings.c.mention_id.in_(list(mention_ids)),
            mention_embeddings.c.model_version == version,
        )
    )
    return {mention_id: from_bytes(vector) for mention_id, vector in rows}


def save_vectors(connection: Connection, vectors: Mapping[int, Vector], version: str, now: datetime) -> None:
    """Store (or replace, when made by another encoder version) each mention's vector."""
    if not vectors:
        return
    connection.execute(delete(mention_embeddings).where(mention_embeddings.c.mention_id.in_(list(vectors))))
    connection.execute(
        insert(mention_embeddings),
        [
            {"mention_id": i, "model_version": version, "vector": to_bytes(v), "embedded_at": now}
            for i, v in vectors.items()
        ],
    )


def vector_version(connection: Connection, mention_ids: Collection[int]) -> str | None:
    """The encoder version some of these mentions' vectors were stored with (a topic's are all one)."""
    found = connection.scalar(
        select(mention_embeddings.c.model_version)
        .where(mention_embeddings.c.mention_id.in_(list(mention_ids)))
        .limit(1)
    )
    return str(found) if found is not None else None
