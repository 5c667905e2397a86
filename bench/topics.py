"""Complaint topics against known reasons: NMI, ARI, purity, speed and stability.

    python -m bench.topics [--data ../shared/data/topics] [--sets cfpb semeval14_restaurants] [--no-bertopic]
    python -m bench.topics --speed-only            # the assignment rate only
    python -m bench.topics --against OLD.onnx      # another build: its vectors' cosine, and speed ratios

On each labelled set (../shared/data/topics/*/data.tsv: cfpb's 9 product groups, semeval's 5 aspects)
the same int8 vectors (models/embedding.py: all-MiniLM-L6-v2 distilled to 4 layers, handles and URLs
stripped) are clustered by:
- grumble: monitor/topics (k from the set's size, spherical k-means from D² starts, c-TF-IDF names);
- kmeans10: scikit-learn KMeans(k=10) on the same vectors;
- bertopic: BERTopic with default settings (UMAP + HDBSCAN) on the same vectors; its outliers (-1)
  count as one more cluster for the scores, and their share is reported;
- projection: grumble's clustering after a within-class whitening learned on the *other* set (the
  supervised projection issue 25 suggests), so its figure is on a set it did not see.
Every mention is assigned (no outliers) except in the BERTopic row. Grumble and KMeans rows are the
mean of 3 runs (3 store orders of the mentions; 3 random states), with NMI's range. Seconds per 1,000
mentions are the clustering's own (and naming's, for grumble); the vectors' cost is reported once.
Stability: fit, then refit from the first fit's topics (as the scheduled refit does) on the mentions
shuffled with 10% left out; the share of the remaining mentions whose topic (matched by centroid) is
the same. New mentions assigned per second: embedding and nearest topic, as the scoring job's hook
runs them (the machine's load average is printed with it). No figure here is on data any part of
Grumble was trained on: the encoder's student learned from sentiment-set texts (../shared/data/sentiment)
to give the public base's vectors, never from a topic set, and the shipped method has no learned
projection. `--against` the previous 6-layer build prints how far the student's vectors are from it.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (  # type: ignore[import-untyped]
    adjusted_rand_score,
    normalized_mutual_info_score,
)

from models.backends import cpu_count
from monitor.topics.cluster import choose_k, fit, nearest, unit
from monitor.topics.matching import match
from monitor.topics.naming import name_clusters

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "topics"
SETS = ("cfpb", "semeval14_restaurants")
REPEATS = 3
# Speed only (no topic labels): short unhappy mentions as most sources bring them.
TWEETS = "negative_tweets"
TWEET_SETS = ["tweet_sentiment_extraction", "apple_twitter_sentiment_dfe", "sanders_brand_tweets"]


def read_set(path: Path) -> tuple[list[str], list[str]]:
    csv.field_size_limit(1 << 24)
    with (path / "data.tsv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r["text"] for r in rows], [r["topic"] for r in rows]


def negative_tweets() -> list[str]:
    """The negative tweets of the tweet and brand-tweet dev splits in ../shared/data/sentiment."""
    from models.training import corpus

    mix = corpus.load(seed=13, names=TWEET_SETS)
    pairs = (zip(ds.texts, ds.labels, strict=True) for ds in mix.dev.values())
    return [text for rows in pairs for text, label in rows if label == 0]


def purity(truth: list[str], labels: np.ndarray) -> float:
    total = 0
    for cluster in set(labels.tolist()):
        members = [truth[i] for i in np.flatnonzero(labels == cluster)]
        total += max(members.count(t) for t in set(members))
    return total / len(truth)


def scores(truth: list[str], labels: np.ndarray) -> dict[str, float]:
    return {
        "nmi": normalized_mutual_info_score(truth, labels),
        "ari": adjusted_rand_score(truth, labels),
        "purity": purity(truth, labels),
        "topics": float(len(set(labels.tolist()) - {-1})),
        "outliers": float(np.mean(labels == -1)),
    }


def grumble(vectors: np.ndarray, texts: list[str], seed: int = 0) -> np.ndarray:
    # The mentions' ids (their order in the store) are all that a run depends on: each seed is another.
    ids = np.random.default_rng(seed).permutation(len(vectors)).astype(np.int64)
    clusters = fit(vectors, ids, choose_k(len(vectors)))
    name_clusters(texts, clusters.labels, len(clusters.centroids))
    return clusters.labels


def kmeans10(vectors: np.ndarray, _texts: list[str], seed: int = 0) -> np.ndarray:
    from sklearn.cluster import KMeans  # type: ignore[import-untyped]

    labels: np.ndarray = KMeans(10, n_init="auto", random_state=seed).fit_predict(unit(vectors))
    return labels


def bertopic(vectors: np.ndarray, texts: list[str], seed: int = 0) -> np.ndarray:
    from bertopic import BERTopic

    model = BERTopic()  # default settings; the vectors are passed in precomputed
    labels, _ = model.fit_transform(texts, embeddings=vectors)
    return np.asarray(labels)


def within_class_whitening(vectors: np.ndarray, truth: list[str], shrink: float = 0.3) -> np.ndarray:
    """A linear map that shrinks the directions topics vary within, learned on one labelled set."""
    y = np.asarray(truth)
    centred = vectors.copy()
    for label in set(truth):
        centred[y == label] -= vectors[y == label].mean(axis=0)
    within = centred.T @ centred / len(vectors)
    within += shrink * np.trace(within) / len(within) * np.eye(len(within))
    values, basis = np.linalg.eigh(within)
    mapped: np.ndarray = basis @ np.diag(values**-0.5) @ basis.T
    return mapped


def stability(vectors: np.ndarray, seed: int = 1) -> float:
    """Share of mentions keeping their topic when refitted from the previous topics on shuffled input
    with a tenth left out (new mentions arrive, old ones age out)."""
    ids = np.arange(len(vectors), dtype=np.int64)
    first = fit(vectors, ids, choose_k(len(vectors)))
    rng = np.random.default_rng(seed)
    keep = rng.permutation(len(vectors))[: int(len(vectors) * 0.9)]
    # New ids in the shuffled order: nothing of the first fit's order is left to lean on.
    shuffled_ids = rng.permutation(len(keep)).astype(np.int64)
    second = fit(
        vectors[keep], shuffled_ids, choose_k(len(keep), previous=len(first.centroids)), first.centroids
    )
    pairs = match(first.centroids, second.centroids)
    same = [
        pairs.get(int(new)) == int(old) for new, old in zip(second.labels, first.labels[keep], strict=True)
    ]
    return float(np.mean(same))


def assignment_rate(embedder: Any, texts: list[str], clusters: Any) -> tuple[float, float]:
    """New mentions per second through what the scoring job's hook does (embed, then nearest topic),
    in batches of 64 as scoring hands them over: as measured, and from the CPU time it took, as it
    would run on this machine's cores when nobody else uses them (the machine is shared)."""
    start, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(texts), 64):
        nearest(embedder.embed(texts[first : first + 64]), clusters.centroids)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return len(texts) / wall, len(texts) * cpu_count() / cpu


Loaded = dict[str, tuple[list[str], list[str], np.ndarray]]


def compare_builds(cached: Any, other: Any, loaded: Loaded) -> None:
    """Another build of the encoder (`--against FILE.onnx`, a candidate) against the cached one: how far
    its vectors are (cosine on up to 250 texts of each set) and the assignment rate of both, alternated
    in one process so that both see the same load, as other/cached ratios (above 1: the other is faster)."""
    agree = []
    for texts, _, vectors in loaded.values():
        sample = np.random.default_rng(0).permutation(len(texts))[:250]
        agree.append(np.einsum("ij,ij->i", vectors[sample], other.embed([texts[i] for i in sample])))
    cosine = np.concatenate(agree)
    print(
        f"vectors of {other.version} against {cached.version}: cosine mean {cosine.mean():.5f}, "
        f"min {cosine.min():.5f} (n={len(cosine)})"
    )
    for name, (texts, _, vectors) in loaded.items():
        clusters = fit(vectors, np.arange(len(vectors)), choose_k(len(vectors)))
        rates: dict[str, list[float]] = {"cached": [], "other": []}
        for _ in range(REPEATS):
            for label, embedder in (("cached", cached), ("other", other)):
                rates[label].append(assignment_rate(embedder, texts, clusters)[0])
        ratios = np.asarray(rates["other"]) / np.asarray(rates["cached"])
        print(
            f"{name:<22} other/cached assignment rate {np.median(ratios):.2f}x (runs "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + f"); other {np.median(rates['other']):.0f}/s, cached {np.median(rates['cached']):.0f}/s"
            + f" at load {os.getloadavg()[0]:.1f}"
        )


def timed(method: Callable[[np.ndarray, list[str], int], np.ndarray], *args: Any) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    labels = method(*args)
    return labels, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--no-bertopic", action="store_true")
    parser.add_argument("--speed-only", action="store_true", help="only the assignment rate, no clustering")
    parser.add_argument("--against", type=Path, help="another build (.onnx) to compare with")
    parser.add_argument("--no-tweets", action="store_true", help=f"no speed figure on {TWEETS}")
    args = parser.parse_args(argv)
    from models.embedding import OnnxEmbedder

    embedder = OnnxEmbedder.load()
    print(f"encoder {embedder.version}")
    loaded: Loaded = {}
    for name in args.sets:
        texts, truth = read_set(args.data / name)
        start = time.perf_counter()
        vectors = embedder.embed(texts)
        took = time.perf_counter() - start
        loaded[name] = (texts, truth, vectors)
        print(f"{name}: {len(texts)} mentions; vectors {took / len(texts) * 1000:.1f} s per 1,000")
    if not args.no_tweets:
        tweets = negative_tweets()
        loaded[TWEETS] = (tweets, [], embedder.embed(tweets))
        tokens = np.mean([len(ids) for ids in embedder.encoder.encode(tweets)])
        print(f"{TWEETS}: {len(tweets)} mentions, {tokens:.0f} tokens on average (speed only)")
    if args.against:
        compare_builds(embedder, OnnxEmbedder.load(onnx_file=args.against), loaded)
        return
    methods: dict[str, Callable[[np.ndarray, list[str], int], np.ndarray]] = {
        "grumble": grumble,
        "kmeans10": kmeans10,
    }
    if not args.no_bertopic:
        methods["bertopic"] = bertopic
    columns = ("NMI", "ARI", "purity", "topics", "outl.", "s/1k")
    print(f"{'set':<22} {'method':<12} " + " ".join(f"{c:>6}" for c in columns))
    for name, (texts, truth, vectors) in loaded.items():
        if args.speed_only or not truth:
            report_rate(name, embedder, texts, vectors)
            continue
        for label, method in methods.items():
            # BERTopic once (its UMAP is slow); the others over REPEATS seeds, averaged, with NMI's range.
            runs = [
                timed(method, vectors, texts, seed) for seed in range(1 if label == "bertopic" else REPEATS)
            ]
            found = [scores(truth, labels) for labels, _ in runs]
            s = {key: float(np.mean([f[key] for f in found])) for key in found[0]}
            took = float(np.mean([t for _, t in runs]))
            spread = f"  NMI {min(f['nmi'] for f in found):.3f}-{max(f['nmi'] for f in found):.3f}"
            print(
                f"{name:<22} {label:<12} {s['nmi']:6.3f} {s['ari']:6.3f} {s['purity']:6.3f} "
                f"{s['topics']:6.0f} {s['outliers']:6.1%} {took / len(texts) * 1000:7.3f}"
                + (spread if len(found) > 1 else "")
            )
        others = [o for o in loaded if o != name and loaded[o][1]]
        if others:
            _, other_truth, other_vectors = loaded[others[0]]
            projected = unit(vectors @ within_class_whitening(other_vectors, other_truth))
            found = [scores(truth, grumble(projected, texts, seed)) for seed in range(REPEATS)]
            s = {key: float(np.mean([f[key] for f in found])) for key in found[0]}
            print(
                f"{name:<22} {'projection':<12} {s['nmi']:6.3f} {s['ari']:6.3f} {s['purity']:6.3f} "
                f"{s['topics']:6.0f} {s['outliers']:6.1%}   (learned on {others[0]})"
            )
        kept = [stability(vectors, seed) for seed in range(1, REPEATS + 1)]
        print(f"{name:<22} stability: {np.mean(kept):.1%} of mentions keep their topic (min {min(kept):.1%})")
        sample = np.random.default_rng(0).permutation(len(texts))[:3]
        labels = grumble(vectors, texts)
        named = name_clusters(texts, labels, int(labels.max()) + 1)
        print(f"{name:<22} names: " + " | ".join(named[int(labels[i])] for i in sample))
        report_rate(name, embedder, texts, vectors)


def report_rate(name: str, embedder: Any, texts: list[str], vectors: np.ndarray) -> None:
    clusters = fit(vectors, np.arange(len(vectors)), choose_k(len(vectors)))
    rate, idle = assignment_rate(embedder, texts, clusters)
    load = os.getloadavg()[0]
    print(
        f"{name:<22} new mentions assigned (embedding + nearest topic): {rate:.0f}/s at load {load:.1f}; "
        f"{idle:.0f}/s on {cpu_count()} idle cores by CPU time"
    )


if __name__ == "__main__":
    main()
