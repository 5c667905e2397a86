"""A refit's clusters matched to the topics before it, so a topic that is still there keeps its id
and name: the Hungarian assignment on centroid cosine similarity, kept where it is close enough."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# Centroids at least this similar are the same topic. Measured with bench/topics.py: a refit on
# shuffled input moves a kept topic's centroid by well under 0.05; distinct topics of one watch sit
# mostly under 0.85 from each other.
SAME_TOPIC = 0.85


def match(
    old: npt.NDArray[np.float32], new: npt.NDArray[np.float32], threshold: float = SAME_TOPIC
) -> dict[int, int]:
    """{new cluster index: old topic index} for the pairs the assignment makes at >= threshold."""
    if len(old) == 0 or len(new) == 0:
        return {}
    from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

    similarity = new @ old.T
    rows, cols = linear_sum_assignment(-similarity)
    return {int(r): int(c) for r, c in zip(rows, cols, strict=True) if similarity[r, c] >= threshold}


def closest(
    vectors: npt.NDArray[np.float32], centroids: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """For each vector, its most similar centroid and that similarity."""
    similarity = vectors @ centroids.T
    best = similarity.argmax(axis=1).astype(np.int64)
    return best, similarity[np.arange(len(vectors)), best].astype(np.float32)
