"""The multi-domain dev set (models/training/corpus.py) as a guard: a watch's offsets may not cost the
model's domain-balanced dev score more than one point, so a team's corrections tune the model to its
domain without unlearning the others.

The product never reads the labelled sets or imports training code: the model's log-probabilities on
every dev split, with their gold labels, are written once per model version by
`python -m models.training.dev_probe` (where ../shared/data/sentiment is) into the model cache, and read
here. Without that file the check cannot run, and the learning report says so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.labels import NEG, POS
from monitor.learn.offsets import Array

log = logging.getLogger(__name__)
MAX_DEV_LOSS = 0.01  # one point of the dev score
BUILD_HINT = "build it with `python -m models.training.dev_probe` where the labelled sets are"


@dataclass(frozen=True)
class DevProbe:
    """A model's log-probabilities and the gold labels of every dev split, by set name, with each set's
    domain and whether it is negative/positive only (SST-2, judged by the binary decision)."""

    log_p: dict[str, Array]
    labels: dict[str, list[int]]
    domains: dict[str, str]
    binary: frozenset[str] = frozenset()

    def score(self, offsets: Sequence[float]) -> float:
        """corpus.dev_report's dev_score of the shifted scores: macro-recall per set, averaged within
        each domain, then over domains (tested equal to it)."""
        shift = np.asarray(offsets, dtype=np.float64)
        by_domain: dict[str, list[float]] = {}
        for name, log_p in self.log_p.items():
            shifted = log_p + shift
            labels = np.asarray(self.labels[name])
            if name in self.binary:
                pred = np.where(shifted[:, NEG] > shifted[:, POS], NEG, POS)
                classes = [NEG, POS]
            else:
                pred = shifted.argmax(axis=1)
                classes = [0, 1, 2]
            recalls = [
                float(np.mean(pred[labels == c] == c)) if (labels == c).any() else 0.0 for c in classes
            ]
            by_domain.setdefault(self.domains[name], []).append(float(np.mean(recalls)))
        return float(np.mean([np.mean(scores) for scores in by_domain.values()]))


@dataclass(frozen=True)
class DevCheck:
    """A new calibration's dev score (`after`) against the current one's (`before`)."""

    before: float
    after: float

    def refusal(self, max_dev_loss: float) -> str | None:
        """Why the new calibration is refused, or None when it keeps the dev score."""
        if self.after >= self.before - max_dev_loss:
            return None
        return (
            f"it would cost the multi-domain dev set {100 * (self.before - self.after):.1f} points "
            f"({self.before:.3f} -> {self.after:.3f}; at most {100 * max_dev_loss:g} allowed: "
            "[learn] max_dev_loss)"
        )

    def as_report(self) -> dict[str, Any]:
        return {"ran": True, "before": round(self.before, 4), "after": round(self.after, 4)}


def probe_file(version: str) -> Path:
    from models.bundle import cache_root

    return cache_root() / f"dev-probe-{re.sub(r'[^A-Za-z0-9._-]+', '_', version)}.npz"


def write_probe(path: Path, probe: DevProbe) -> None:
    arrays: dict[str, npt.NDArray[np.generic]] = {
        "names": np.array(list(probe.log_p)),
        "domains": np.array([probe.domains[n] for n in probe.log_p]),
        "binary": np.array([n in probe.binary for n in probe.log_p]),
    }
    for index, name in enumerate(probe.log_p):
        arrays[f"p{index}"] = probe.log_p[name]
        arrays[f"y{index}"] = np.asarray(probe.labels[name])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)  # type: ignore[arg-type]


def read_probe(path: Path) -> DevProbe:
    with np.load(path) as stored:
        names = [str(n) for n in stored["names"]]
        return DevProbe(
            {n: stored[f"p{i}"].astype(np.float64) for i, n in enumerate(names)},
            {n: stored[f"y{i}"].astype(int).tolist() for i, n in enumerate(names)},
            {n: str(d) for n, d in zip(names, stored["domains"], strict=True)},
            frozenset(n for n, b in zip(names, stored["binary"], strict=True) if b),
        )


def probe(version: str) -> DevProbe | None:
    """The dev probe of the model `version`, or None (logged) where none was built on this machine."""
    path = probe_file(version)
    if not path.is_file():
        log.warning(
            "the multi-domain dev check cannot run: no dev probe for %s at %s; %s", version, path, BUILD_HINT
        )
        return None
    return read_probe(path)
