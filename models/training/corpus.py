"""The multi-domain training mix and its dev splits, built from ../shared/data/sentiment.

Every labelled set gets a seeded, stratified dev split that never reaches training (TweetEval
and SST-2 keep their published validation splits). Training rows are deduplicated across sets
(about 350 generic texts such as "good app" stand in several), and any text equal to a dev text
is dropped, so no dev figure has seen its own rows. Each epoch samples every set in proportion
to the square root of its size: the 45,000 TweetEval tweets still count most, but a 2,000-row set
is not drowned, and no set is repeated beyond its own size.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.labels import LABELS, NEG, POS
from models.preprocess import normalise
from models.training import data
from models.training.metrics import report


@dataclass(frozen=True)
class Source:
    """One labelled set: its folder under the data dir, the domain it stands for, its licence."""

    name: str
    domain: str
    licence: str
    binary: bool = False  # negative/positive only (SST-2): scored by the binary decision


SOURCES: tuple[Source, ...] = (
    Source("tweeteval_sentiment", "tweets", "research use (SemEval-2017 terms)"),
    Source("tweet_sentiment_extraction", "tweets", "CC BY 4.0 (as quoted by the competition)"),
    Source("apple_twitter_sentiment_dfe", "brand tweets", "research use"),
    Source("sxsw_brand_product_emotions", "brand tweets", "research use"),
    Source("sanders_brand_tweets", "brand tweets", "research use"),
    Source("threads_app_reviews", "app reviews", "research use"),
    Source("ethiopian_bank_app_reviews", "app reviews", "research use"),
    Source("womens_clothing_reviews", "product reviews", "CC0"),
    Source("amazon_alexa_reviews", "product reviews", "research use"),
    Source("sst2", "film reviews", "research use (GLUE / Stanford Sentiment Treebank)", binary=True),
)
DEV_FRACTION = 0.1
DEV_MAX = 600  # per set: enough for a stable macro-recall, small enough to evaluate often
DEV_MIN_PER_CLASS = 20


@dataclass(frozen=True)
class Corpus:
    train: dict[str, data.Dataset]  # deduplicated, dev texts removed
    dev: dict[str, data.Dataset]


def source(name: str) -> Source:
    for item in SOURCES:
        if item.name == name:
            return item
    raise KeyError(f"unknown sentiment set {name!r}; known: {', '.join(s.name for s in SOURCES)}")


def read_tsv(path: Path, name: str) -> data.Dataset:
    """`text<TAB>label` with label negative/neutral/positive; a bad row is a clear error naming it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t") != ["text", "label"]:
        raise ValueError(f"{path}: expected the header 'text<TAB>label'")
    texts, labels = [], []
    for number, line in enumerate(lines[1:], start=2):
        text, sep, label = line.rpartition("\t")
        if not sep or label not in LABELS:
            raise ValueError(f"{path} line {number}: expected text<TAB>negative|neutral|positive")
        cleaned = normalise(text)
        if cleaned:
            texts.append(cleaned)
            labels.append(LABELS.index(label))
    return data.Dataset(name, texts, labels)


def stratified_split(ds: data.Dataset, seed: int) -> tuple[data.Dataset, data.Dataset]:
    """(train, dev): DEV_FRACTION of each class (at least DEV_MIN_PER_CLASS), at most DEV_MAX in all."""
    rng = random.Random(f"{seed}:{ds.name}")
    by_class: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(ds.labels):
        by_class[label].append(i)
    share = min(DEV_FRACTION, DEV_MAX / max(1, len(ds)))
    dev_idx: set[int] = set()
    for members in by_class.values():
        rng.shuffle(members)
        take = min(len(members) // 2, max(DEV_MIN_PER_CLASS, round(len(members) * share)))
        dev_idx.update(members[:take])
    dev = sorted(dev_idx)
    train = [i for i in range(len(ds)) if i not in dev_idx]
    return data.subset(ds, train), data.subset(ds, dev)


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def load(data_dir: Path = data.DATA_DIR, seed: int = 13, names: list[str] | None = None) -> Corpus:
    """All SOURCES (or those named), split and deduplicated."""
    train: dict[str, data.Dataset] = {}
    dev: dict[str, data.Dataset] = {}
    for item in [source(n) for n in names] if names is not None else SOURCES:
        if item.name == "tweeteval_sentiment":
            train[item.name] = data.tweeteval("train", data_dir)
            dev[item.name] = data.tweeteval("val", data_dir)
        elif item.name == "sst2":
            sst_dev = data.sst2("dev", data_dir)
            pool = data.sst2("train", data_dir, min_words=data.SST2_MIN_WORDS)
            train[item.name] = data.drop_overlap(pool, sst_dev)
            # A seeded 1,000 of the 6,735 dev sentences: the film domain weighs as much as the others.
            dev[item.name] = data.sample(sst_dev, 1000, seed=seed)
        else:
            full = read_tsv(data_dir / item.name / "data.tsv", item.name)
            train[item.name], dev[item.name] = stratified_split(full, seed)
    return Corpus(dedupe(train, dev), dev)


def dedupe(train: dict[str, data.Dataset], dev: dict[str, data.Dataset]) -> dict[str, data.Dataset]:
    """Drop training rows equal to any dev text; of texts in several training sets keep one copy
    (the first set's), and drop a text whose copies disagree on the label."""
    dev_keys = {_key(t) for ds in dev.values() for t in ds.texts}
    labels_of: dict[str, set[int]] = defaultdict(set)
    for ds in train.values():
        for text, label in zip(ds.texts, ds.labels, strict=True):
            labels_of[_key(text)].add(label)
    seen: set[str] = set()
    out: dict[str, data.Dataset] = {}
    for name, ds in train.items():
        keep = []
        for i, text in enumerate(ds.texts):
            key = _key(text)
            if key in dev_keys or key in seen or len(labels_of[key]) > 1:
                continue
            seen.add(key)
            keep.append(i)
        out[name] = data.subset(ds, keep)
    return out


def epoch_quota(corpus: Corpus, per_epoch: int, power: float = 0.5) -> dict[str, int]:
    """Rows drawn from each set per epoch: proportional to size**power, capped at the set's size."""
    sizes = {name: len(ds) for name, ds in corpus.train.items() if len(ds)}
    quota: dict[str, int] = {}
    remaining, budget = dict(sizes), per_epoch
    # Hand what a capped set cannot take to the others, so the epoch keeps its size.
    while remaining and budget > 0:
        weight = {name: n**power for name, n in remaining.items()}
        total = sum(weight.values())
        capped = {n for n in remaining if budget * weight[n] / total >= remaining[n]}
        if not capped:
            for name in remaining:
                quota[name] = round(budget * weight[name] / total)
            break
        for name in capped:
            quota[name] = remaining.pop(name)
            budget -= quota[name]
    return quota


def epoch_mix(corpus: Corpus, quota: dict[str, int], seed: int) -> data.Dataset:
    texts: list[str] = []
    labels: list[int] = []
    for name, n in quota.items():
        part = data.sample(corpus.train[name], n, seed=seed)
        texts += part.texts
        labels += part.labels
    return data.Dataset(f"mix-{seed}", texts, labels)


def describe(corpus: Corpus, quota: dict[str, int]) -> list[dict[str, object]]:
    """One row per set for the log and the model card."""
    rows: list[dict[str, object]] = []
    for item in (source(name) for name in corpus.train):
        train = corpus.train[item.name]
        rows.append(
            {
                "set": item.name,
                "domain": item.domain,
                "licence": item.licence,
                "train": len(train),
                "dev": len(corpus.dev[item.name]),
                "per_epoch": quota.get(item.name, 0),
                "train_classes": dict(sorted(Counter(LABELS[y] for y in train.labels).items())),
            }
        )
    return rows


def predictions(name: str, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    """3-class argmax, or for a negative/positive-only set the binary decision neg vs pos."""
    pred: npt.NDArray[np.int64]
    if source(name).binary:
        pred = np.where(logits[:, NEG] > logits[:, POS], NEG, POS).astype(np.int64)
    else:
        pred = logits.argmax(axis=1).astype(np.int64)
    return pred


def dev_report(
    dev: Mapping[str, data.Dataset], logits: Mapping[str, npt.NDArray[np.float32]]
) -> dict[str, Any]:
    """Per-set scores and `dev_score`: macro-recall averaged within each domain, then over domains,
    so five app-review sets could not outvote one film set. Negative recall/precision are the
    plain means over sets (the figures a care team feels: complaints caught, false alarms)."""
    sets: dict[str, dict[str, float]] = {}
    by_domain: dict[str, list[float]] = defaultdict(list)
    for name, ds in dev.items():
        classes = (NEG, POS) if source(name).binary else (0, 1, 2)
        scores = report(ds.labels, predictions(name, logits[name]).tolist(), classes=classes)
        sets[name] = {k: round(v, 4) for k, v in scores.items()}
        by_domain[source(name).domain].append(scores["macro_recall"])
    domains = {domain: float(np.mean(values)) for domain, values in by_domain.items()}
    return {
        "dev_score": float(np.mean(list(domains.values()))),
        "neg_recall": float(np.mean([s["neg_recall"] for s in sets.values()])),
        "neg_precision": float(np.mean([s["neg_precision"] for s in sets.values()])),
        "domains": {k: round(v, 4) for k, v in domains.items()},
        "sets": sets,
    }


def brief(scores: Mapping[str, Any]) -> dict[str, Any]:
    """The headline of a dev_report for a log line."""
    head = {k: round(float(scores[k]), 4) for k in ("dev_score", "neg_recall", "neg_precision")}
    return {**head, **scores["domains"]}
