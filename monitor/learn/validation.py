"""Is a new calibration better than the current one on corrections it was not fitted to? Stratified
k-fold cross-validation on the watch's corrections, and the rule that decides from it."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.learn.offsets import Array, Scores, Target, evaluate, fit

# The gain (in the target's utility, averaged over the held-back folds) a new calibration must bring,
# and it must also exceed the standard error of that mean: a gain smaller than the folds' own spread is
# not told apart from noise (random labels produce such "gains").
MIN_GAIN = 0.005
# How well the model's own scores must rank the corrections (the area under the ROC curve of
# P(negative) against P(positive), complaints against the rest, and praise against the rest) before
# offsets are fitted to them. Offsets only move thresholds: they help where the model ranks a domain's
# texts right but cuts them in the wrong place. Labels the scores cannot tell apart (random labels
# score 0.5) are noise, not a domain's usage, and macro-F1 alone would reward spreading predictions
# over them (measured: +0.03 on 300 random labels, larger than its standard error).
MIN_AGREEMENT = 0.65


@dataclass(frozen=True)
class Fold:
    before: Scores  # the current calibration (or none) on the held-back fold
    after: Scores  # offsets fitted on the other folds, on the held-back fold


@dataclass(frozen=True)
class CrossValidation:
    folds: list[Fold]
    target: Target

    def gains(self) -> npt.NDArray[np.float64]:
        return np.array([self.target.utility(f.after) - self.target.utility(f.before) for f in self.folds])

    def recall_drop(self) -> tuple[float, float]:
        """How many fewer complaints (negative recall) the new calibration catches than the current one
        on the held-back folds: the mean (negative: more) and its standard error."""
        drops = np.array([f.before.neg_recall - f.after.neg_recall for f in self.folds])
        return float(drops.mean()), _stderr(drops)

    def summary(self) -> dict[str, Any]:
        """Mean and spread (standard deviation across folds) of each figure, before and after."""
        out: dict[str, Any] = {"folds": len(self.folds)}
        for side in ("before", "after"):
            rows = [getattr(fold, side).as_dict() for fold in self.folds]
            out[side] = {
                key: {
                    "mean": round(float(np.mean([r[key] for r in rows])), 4),
                    "spread": round(float(np.std([r[key] for r in rows])), 4),
                }
                for key in rows[0]
            }
        gains = self.gains()
        out["gain"] = {"mean": round(float(gains.mean()), 4), "stderr": round(_stderr(gains), 4)}
        return out


def held_back_gain(report: dict[str, Any]) -> float:
    """The mean gain on held-back corrections a learn report's cross-validation found; -inf where it
    did not run (a check stopped before it), so anything that ran compares above it."""
    cv = report.get("cross_validation")
    return float(cv["gain"]["mean"]) if cv else float("-inf")


def _stderr(values: npt.NDArray[np.float64]) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("inf")


def stratified_folds(
    labels: npt.NDArray[np.int64], folds: int, seed: int = 13
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """(train, held-back) index arrays of a seeded stratified k-fold split of the corrections."""
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # A class with fewer corrections than folds is spread as evenly as it can be; sklearn warns.
        warnings.simplefilter("ignore", UserWarning)
        return list(splitter.split(np.zeros(len(labels)), labels))


def cross_validate(
    log_p: Array,
    labels: npt.NDArray[np.int64],
    current: Sequence[float] | Array,
    target: Target,
    folds: int,
    seed: int = 13,
    current_log_p: Array | None = None,
) -> CrossValidation:
    """`current_log_p`: the current calibration's own scores where they are not `log_p` (a fine-tuned
    model's); `current` is added to them."""
    now = log_p if current_log_p is None else current_log_p
    results: list[Fold] = []
    for train, test in stratified_folds(labels, folds, seed):
        fitted = fit(log_p[train], labels[train], target, evaluate(now[train], labels[train], current))
        results.append(
            Fold(evaluate(now[test], labels[test], current), evaluate(log_p[test], labels[test], fitted))
        )
    return CrossValidation(results, target)


def beats(cv: CrossValidation) -> tuple[bool, str]:
    """Whether the new calibration wins on held-back corrections, and a sentence saying why."""
    gains = cv.gains()
    mean, stderr = float(gains.mean()), _stderr(gains)
    said = f"{cv.target.name} gain {mean:+.3f} ± {stderr:.3f} (standard error over {len(gains)} folds)"
    if mean < MIN_GAIN:
        return False, f"it does not beat the current calibration on corrections held back: {said}"
    if mean <= stderr:
        return False, f"its gain on corrections held back is within their noise: {said}"
    # The fit keeps the floor on the corrections it saw, so held-back folds land around it: only a drop
    # beyond the floor by more than its own noise is refused, as a gain must beat its noise.
    drop, noise = cv.recall_drop()
    allowed = cv.target.allowed_drop
    if allowed is not None and drop - noise > allowed:
        return False, (
            f"on corrections held back it catches {100 * drop:.0f} ± {100 * noise:.0f} points fewer "
            f"complaints than now ({said}); the default target gives up at most {100 * allowed:g} "
            "([learn] max_recall_drop; a watch that prefers precision can raise it)"
        )
    return True, f"it beats the current calibration on corrections held back: {said}"


def agreement(log_p: Array, labels: npt.NDArray[np.int64]) -> float | None:
    """The mean one-against-the-rest AUC of the model's polarity for negative and positive labels
    (None when the corrections hold no such pair to compare)."""
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

    polarity = log_p[:, 2] - log_p[:, 0]
    areas = []
    for label, sign in ((0, -1.0), (2, 1.0)):
        truth = labels == label
        if 0 < truth.sum() < len(labels):
            areas.append(float(roc_auc_score(truth, sign * polarity)))
    return float(np.mean(areas)) if areas else None


def informative(log_p: Array, labels: npt.NDArray[np.int64]) -> tuple[bool, str]:
    area = agreement(log_p, labels)
    if area is None:
        return False, "the corrections hold no negative or positive label to learn from"
    if area < MIN_AGREEMENT:
        return False, (
            "the corrections agree with the model's own ranking no better than chance would "
            f"(AUC {area:.2f}, at least {MIN_AGREEMENT} needed): they look like noise, not this watch's "
            "way of speaking"
        )
    return True, f"the corrections agree with the model's ranking (AUC {area:.2f})"
