"""Class offsets on a model's log-probabilities, chosen on a team's corrections for its operating point.

An offset vector o moves every decision the same way: the label is argmax(log p + o), and the stored
probabilities are p * exp(o), renormalised (models.sentiment.shifted). Neutral stays at 0 (only the
differences count). The grid is searched whole with array operations: 3,721 candidates on 500
corrections take a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.labels import NEG

Array = npt.NDArray[np.float64]
STEP = 0.1
GRID = np.round(np.arange(-3.0, 3.0 + STEP / 2, STEP), 4)
# A shortfall against the team's complaint target costs twice its size in macro-F1: missing the target
# by 5 points of recall must be bought back by 10 points of macro-F1.
SHORTFALL_WEIGHT = 2.0
NO_OFFSETS = (0.0, 0.0, 0.0)  # the model as it scores


@dataclass(frozen=True)
class Target:
    """The operating point: the best macro-F1, or the best macro-F1 among offsets that catch at least
    `min_recall` of complaints (negative recall).

    `max_drop` guards the default: the best macro-F1 may be bought by calling fewer things complaints
    (measured: a fine-tuned model took sanders' macro-F1 0.590 -> 0.602 while the complaints it caught
    fell 75% -> 42%, bench/results/learn-adapt.md). With it, the fit charges every point of negative
    recall below what the current calibration catches on the same corrections, less `max_drop`
    ([learn] max_recall_drop), like a shortfall below `min_recall`; and validation.beats refuses a
    calibration that catches more than `max_drop` fewer complaints on corrections held back."""

    min_recall: float | None = None
    max_drop: float | None = None

    @property
    def name(self) -> str:
        return "macro-f1" if self.min_recall is None else f"recall>={self.min_recall:.2f}"

    @property
    def allowed_drop(self) -> float | None:
        """The negative recall the default target may give up; None where no floor applies (a team's own
        target replaces it; max_drop 1 is none)."""
        if self.min_recall is not None or self.max_drop is None or self.max_drop >= 1.0:
            return None
        return self.max_drop

    def floor(self, now: Scores | None) -> float | None:
        """The negative recall below which the fit charges a shortfall, on corrections where the current
        calibration scores `now` (None: nothing is charged)."""
        if self.min_recall is not None:
            return self.min_recall
        drop = self.allowed_drop
        if drop is None:
            return None
        if now is None:
            raise ValueError("the default target's complaint floor needs the current calibration's scores")
        return now.neg_recall - drop if now.neg_recall > drop else None

    def utility(self, scores: Scores) -> float:
        """One number to compare two calibrations on the same corrections."""
        if self.min_recall is None:
            return scores.macro_f1
        return scores.macro_f1 - SHORTFALL_WEIGHT * max(0.0, self.min_recall - scores.neg_recall)


@dataclass(frozen=True)
class Scores:
    neg_recall: float
    neg_precision: float
    macro_f1: float

    def as_dict(self) -> dict[str, float]:
        return {
            "neg_recall": round(self.neg_recall, 4),
            "neg_precision": round(self.neg_precision, 4),
            "macro_f1": round(self.macro_f1, 4),
        }


def _confusions(log_p: Array, labels: npt.NDArray[np.int64], candidates: Array) -> Array:
    """(candidates, 3, 3) confusion matrices, rows gold, columns predicted."""
    count = len(candidates)
    pred = (log_p[None, :, :] + candidates[:, None, :]).argmax(axis=2)
    cells = (np.arange(count)[:, None] * 9 + labels[None, :] * 3 + pred).ravel()
    return np.bincount(cells, minlength=count * 9).reshape(count, 3, 3).astype(np.float64)


def _scores(matrix: Array, classes: Sequence[int]) -> tuple[Array, Array, Array]:
    """Negative recall, negative precision and macro-F1 (over `classes`) of each confusion matrix."""
    hits = np.diagonal(matrix, axis1=1, axis2=2)
    gold = matrix.sum(axis=2)
    said = matrix.sum(axis=1)
    recall = np.divide(hits, gold, out=np.zeros_like(hits), where=gold > 0)
    precision = np.divide(hits, said, out=np.zeros_like(hits), where=said > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
    return recall[:, NEG], precision[:, NEG], f1[:, list(classes)].mean(axis=1)


def evaluate(log_p: Array, labels: npt.NDArray[np.int64], offsets: Sequence[float] | Array) -> Scores:
    classes = sorted(set(labels.tolist())) or [0, 1, 2]
    matrix = _confusions(log_p, labels, np.asarray([offsets], dtype=np.float64))
    recall, precision, f1 = _scores(matrix, classes)
    return Scores(float(recall[0]), float(precision[0]), float(f1[0]))


def fit(
    log_p: Array, labels: npt.NDArray[np.int64], target: Target, now: Scores | None = None, chunk: int = 512
) -> Array:
    """The grid's offsets with the best utility on these corrections (`now`: the current calibration's
    scores on them, which the default target's floor needs); ties go to the smaller shift, so a few
    corrections move the model no further than they must."""
    floor = target.floor(now)
    classes = sorted(set(labels.tolist())) or [0, 1, 2]
    candidates = np.array([[neg, 0.0, pos] for neg in GRID for pos in GRID], dtype=np.float64)
    utility = np.empty(len(candidates))
    for start in range(0, len(candidates), chunk):
        part = candidates[start : start + chunk]
        recall, _, f1 = _scores(_confusions(log_p, labels, part), classes)
        if floor is not None:
            f1 = f1 - SHORTFALL_WEIGHT * np.maximum(0.0, floor - recall)
        utility[start : start + chunk] = f1
    shift = np.abs(candidates).sum(axis=1)
    best = np.lexsort((shift, -np.round(utility, 6)))[0]
    chosen: Array = candidates[best]
    return chosen
