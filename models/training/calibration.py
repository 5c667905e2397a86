"""Per-class logit offsets chosen on the multi-domain dev set, folded into the classifier's bias."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.labels import NEG, POS
from models.training import corpus, data

GRID = np.round(np.arange(-1.5, 1.5001, 0.05), 4)
# Calibration may trade at most this much of any one domain's macro-recall: offsets that buy the
# mean by hurting one domain fit the mix of dev sets, not a bias of the model (the first fit on this
# mix moved negative by +1.45 and cost tweets 2.2 points for review gains).
MAX_DOMAIN_LOSS = 0.005
Logits = Mapping[str, npt.NDArray[np.float32]]


def fit_offsets(dev: Mapping[str, data.Dataset], logits: Logits) -> npt.NDArray[np.float32]:
    """Offsets (neutral fixed at 0) that maximise the domain-balanced dev score without any domain
    losing more than MAX_DOMAIN_LOSS; ties go to higher negative recall, then to the smaller shift,
    so calibration moves the model only as far as every domain agrees."""
    base = corpus.dev_report(dev, logits)["domains"]
    candidates = np.array([[neg, 0.0, pos] for neg in GRID for pos in GRID], dtype=np.float32)
    grid = _grid_scores(dev, logits, candidates)
    best: tuple[float, float, float] | None = None
    best_offsets = np.zeros(3, dtype=np.float32)
    for k, (neg, pos) in enumerate((neg, pos) for neg in GRID for pos in GRID):
        if any(grid.domains[d][k] < base[d] - MAX_DOMAIN_LOSS for d in base):
            continue
        key = (round(grid.dev_score[k], 4), round(grid.neg_recall[k], 4), -abs(neg) - abs(pos))
        if best is None or key > best:
            best, best_offsets = key, candidates[k]
    return best_offsets


@dataclass(frozen=True)
class _GridScores:
    """`corpus.dev_report`'s figures for every candidate at once, rounded as it rounds them."""

    dev_score: list[float]
    neg_recall: list[float]
    domains: dict[str, list[float]]


def _grid_scores(
    dev: Mapping[str, data.Dataset], logits: Logits, candidates: npt.NDArray[np.float32], chunk: int = 256
) -> _GridScores:
    """What `corpus.dev_report` says of the logits shifted by each candidate, computed for the whole
    grid with array operations (the same predictions, confusion counts and recalls; 3,721 reports one
    by one took most of a training run's finalising). Equal to the one-by-one reports: tested."""
    macro: dict[str, npt.NDArray[np.float64]] = {}
    negative: dict[str, list[float]] = {}
    for name, ds in dev.items():
        labels = np.asarray(ds.labels, dtype=np.int64)
        binary = corpus.source(name).binary
        classes = [NEG, POS] if binary else [0, 1, 2]
        recalls = []
        for start in range(0, len(candidates), chunk):
            shifted = logits[name][None, :, :] + candidates[start : start + chunk, None, :]
            if binary:
                pred = np.where(shifted[:, :, NEG] > shifted[:, :, POS], NEG, POS)
            else:
                pred = shifted.argmax(axis=2)
            count = len(pred)
            cells = (np.arange(count)[:, None] * 9 + labels[None, :] * 3 + pred).ravel()
            matrix = np.bincount(cells, minlength=count * 9).reshape(count, 3, 3).astype(np.float64)
            hits = matrix[:, [0, 1, 2], [0, 1, 2]]
            rows = matrix.sum(axis=2)
            recalls.append(np.divide(hits, rows, out=np.zeros_like(hits), where=rows > 0))
        recall = np.concatenate(recalls)
        macro[name] = recall[:, classes].mean(axis=1)
        # dev_report averages the per-set figures it has rounded.
        negative[name] = [round(float(value), 4) for value in recall[:, NEG]]
    by_domain: dict[str, list[str]] = {}
    for name in dev:
        by_domain.setdefault(corpus.source(name).domain, []).append(name)
    domain_scores = {
        domain: np.mean(np.stack([macro[name] for name in names]), axis=0)
        for domain, names in by_domain.items()
    }
    dev_score = np.mean(np.stack(list(domain_scores.values())), axis=0)
    neg_recall = np.mean(np.array([negative[name] for name in dev]), axis=0)
    return _GridScores(
        dev_score=[float(v) for v in dev_score],
        neg_recall=[float(v) for v in neg_recall],
        domains={d: [round(float(v), 4) for v in values] for d, values in domain_scores.items()},
    )


def cross_checked(dev: Mapping[str, data.Dataset], logits: Logits, seed: int = 0) -> dict[str, Any]:
    """Fit on one half of every dev set, score on the other halves (both ways): an estimate of
    the gain calibration brings that is not inflated by scoring on the data it was fitted to."""
    halves: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
    for name, ds in dev.items():
        order = np.random.default_rng(seed).permutation(len(ds))
        halves[name] = (order[: len(ds) // 2], order[len(ds) // 2 :])
    before, after = [], []
    for first, second in ((0, 1), (1, 0)):
        fit_dev = {n: data.subset(ds, halves[n][first].tolist()) for n, ds in dev.items()}
        fit_logits = {n: logits[n][halves[n][first]] for n in dev}
        test_dev = {n: data.subset(ds, halves[n][second].tolist()) for n, ds in dev.items()}
        test_logits = {n: logits[n][halves[n][second]] for n in dev}
        offsets = fit_offsets(fit_dev, fit_logits)
        before.append(corpus.dev_report(test_dev, test_logits)["dev_score"])
        after.append(
            corpus.dev_report(test_dev, {n: x + offsets for n, x in test_logits.items()})["dev_score"]
        )
    return {"dev_score_uncalibrated": float(np.mean(before)), "dev_score_calibrated": float(np.mean(after))}
