"""Clustering a watch's unhappy mentions: spherical k-means started from anchors, every mention assigned.

Why k-means and not HDBSCAN (BERTopic's default): measured in issue 25 on short complaints, HDBSCAN left
30-50% as outliers and changed its topic count between runs; k-means on the same vectors did as well
with none. Anchors (the previous refit's topics, then the watch's seed topics) start the centroids, so
a refit finds the same topics again where they still exist; the rest start by D² sampling with fixed
seeds over the mentions in id order (the tightest of STARTS runs is kept), so the result does not
depend on the order they were read in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]

MIN_TOPICS = 2
MAX_TOPICS = 25
# About one topic per ten times its own size in mentions: 100 -> 3, 1,000 -> 10, 6,250+ -> 25.
MENTIONS_PER_TOPIC_SQUARED = 10
# Below this many unhappy mentions a watch has no topics yet: clusters of a handful say nothing.
MIN_MENTIONS = 12
SEED = 0
# Free centroids start this many ways (D² sampling, seeds 0..STARTS-1); the tightest clustering is kept,
# so one unlucky start does not decide a watch's topics.
STARTS = 4
# A refit keeps the previous topic count while the rule's count is at most this share under it.
STICKY_SHARE = 0.2


def unit(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    normalised: Matrix = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def choose_k(n: int, at_least: int = 0, previous: int = 0) -> int:
    """How many topics for n mentions: grows with the square root; at least `at_least` (the topics a
    person or a seed asks for), at most MAX_TOPICS. A little under the `previous` refit's count it stays
    at that count: a watch whose volume dips keeps its topics rather than losing one."""
    k = round(float(np.sqrt(n / MENTIONS_PER_TOPIC_SQUARED)))
    if previous and 0 < previous - k <= max(1, round(previous * STICKY_SHARE)):
        k = previous  # a little fewer mentions: keep every topic (more mentions may add one)
    k = max(MIN_TOPICS, min(MAX_TOPICS, k), min(at_least, MAX_TOPICS))
    return max(1, min(k, n))


@dataclass(frozen=True)
class Clusters:
    labels: npt.NDArray[np.int64]  # per mention, in the order given
    centroids: Matrix  # unit vectors; rows 0..len(anchors)-1 started from the anchors
    similarity: npt.NDArray[np.float32]  # each mention's cosine to its centroid


def fit(vectors: Matrix, ids: npt.NDArray[np.int64], k: int, anchors: Matrix | None = None) -> Clusters:
    """k clusters of unit `vectors` (one row per mention `ids`), started from `anchors` (k or fewer)."""
    from sklearn.cluster import KMeans  # type: ignore[import-untyped]

    order = np.argsort(ids, kind="stable")
    data = unit(vectors[order])
    free = k - (0 if anchors is None else min(len(anchors), k))
    model = None
    for seed in range(STARTS if free > 0 else 1):
        start = _initial_centroids(data, k, anchors, seed)
        run = KMeans(n_clusters=len(start), init=start, n_init=1, max_iter=100, random_state=SEED).fit(data)
        if model is None or run.inertia_ < model.inertia_:
            model = run
    assert model is not None
    centroids = unit(model.cluster_centers_.astype(np.float32))
    similarity = data @ centroids.T
    labels_sorted = similarity.argmax(axis=1)
    labels = np.empty_like(labels_sorted)
    labels[order] = labels_sorted
    best = np.empty(len(ids), dtype=np.float32)
    best[order] = similarity[np.arange(len(data)), labels_sorted]
    return Clusters(labels.astype(np.int64), centroids, best)


def nearest(vectors: Matrix, centroids: Matrix) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Each vector's nearest centroid and its cosine similarity (both unit): incremental assignment."""
    similarity = unit(vectors) @ centroids.T
    labels = similarity.argmax(axis=1).astype(np.int64)
    best = similarity[np.arange(len(vectors)), labels].astype(np.float32)
    return labels, best


def _initial_centroids(data: Matrix, k: int, anchors: Matrix | None, seed: int) -> Matrix:
    chosen = [] if anchors is None else list(unit(anchors)[:k])
    rng = np.random.default_rng(seed)
    if not chosen:
        chosen.append(data[rng.integers(len(data))])
    while len(chosen) < min(k, len(data)):
        distance = 1.0 - (data @ np.asarray(chosen).T).max(axis=1)
        weights = np.clip(distance, 0.0, None) ** 2
        total = float(weights.sum())
        if total <= 0:
            break  # fewer distinct mentions than topics
        chosen.append(data[rng.choice(len(data), p=weights / total)])
    return np.asarray(chosen, dtype=np.float32)
