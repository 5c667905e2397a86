"""Readers for the training and validation sets in ../shared/data/sentiment (never copied into the repo)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from models.labels import NEG, POS
from models.preprocess import normalise

DATA_DIR = Path(
    os.environ.get(
        "GRUMBLE_SENTIMENT_DATA", Path(__file__).resolve().parents[2].parent / "shared/data/sentiment"
    )
)
# SST-2 train is mostly sub-sentence phrases ("kids , spirit"); whole-sentence-like rows
# carry the review-style signal we want from it.
SST2_MIN_WORDS = 8


@dataclass(frozen=True)
class Dataset:
    name: str
    texts: list[str]
    labels: list[int]  # indices into LABELS

    def __len__(self) -> int:
        return len(self.texts)


def _lines(path: Path) -> list[str]:
    # Every line is stripped: the original val/test files end each line with a space.
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


def tweeteval(split: str, data_dir: Path = DATA_DIR) -> Dataset:
    """split: 'train' or 'val'. Labels are already 0 neg / 1 neu / 2 pos."""
    folder = data_dir / "tweeteval_sentiment"
    texts = _lines(folder / f"{split}_text.txt")
    labels = [int(x) for x in _lines(folder / f"{split}_labels.txt")]
    if len(texts) != len(labels):
        raise ValueError(f"{folder}: {len(texts)} texts but {len(labels)} labels in {split}")
    return Dataset(f"tweeteval-{split}", [normalise(t) for t in texts], labels)


def sst2(split: str, data_dir: Path = DATA_DIR, *, min_words: int = 0) -> Dataset:
    """split: 'train' or 'dev'. Binary 0 neg / 1 pos, mapped onto our negative / positive."""
    rows = (data_dir / "sst2" / f"{split}.tsv").read_text(encoding="utf-8").splitlines()
    if rows[0].split("\t")[:2] != ["sentence", "label"]:
        raise ValueError(f"unexpected SST-2 header {rows[0]!r}")
    texts, labels = [], []
    for row in rows[1:]:
        sentence, label = row.rsplit("\t", 1)
        sentence = sentence.strip()
        if len(sentence.split()) < min_words:
            continue
        texts.append(normalise(sentence))
        labels.append(NEG if int(label) == 0 else POS)
    return Dataset(f"sst2-{split}", texts, labels)


def subset(dataset: Dataset, idx: Iterable[int]) -> Dataset:
    """The rows at `idx`, in that order."""
    rows = list(idx)
    return Dataset(dataset.name, [dataset.texts[i] for i in rows], [dataset.labels[i] for i in rows])


def sample(dataset: Dataset, n: int, seed: int) -> Dataset:
    if n >= len(dataset):
        return dataset
    return subset(dataset, random.Random(seed).sample(range(len(dataset)), n))


def drop_overlap(train: Dataset, held_out: Dataset, *, min_words: int = 4) -> Dataset:
    """Drop training rows that contain, or are contained in, a held-out sentence.

    The SST-2 files are a re-split of GLUE train, whose rows are phrases of the same parsed
    sentences: without this, most dev sentences appear verbatim inside training rows.
    Held-out phrases shorter than `min_words` ("the film") say nothing about a label and
    would only throw away most of the training set.
    """
    import bisect

    joined_held = "\n".join(held_out.texts)
    keep = [held_out_text not in joined_held for held_out_text in train.texts]
    starts, offset = [], 0
    for text in train.texts:
        starts.append(offset)
        offset += len(text) + 1
    joined_train = "\n".join(train.texts)
    for sentence in held_out.texts:
        if len(sentence.split()) < min_words:
            continue
        pos = joined_train.find(sentence)
        while pos != -1:
            keep[bisect.bisect_right(starts, pos) - 1] = False
            pos = joined_train.find(sentence, pos + 1)
    return Dataset(
        train.name + "-dedup",
        [t for t, k in zip(train.texts, keep, strict=True) if k],
        [y for y, k in zip(train.labels, keep, strict=True) if k],
    )
