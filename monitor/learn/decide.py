"""The whole learning rule on arrays, apart from the store: fit offsets on corrections, and say whether
they may replace the current ones. `grumble learn` (run.py) and the simulation (bench/learn.py) share it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.labels import LABELS
from monitor.learn.dev_check import BUILD_HINT, MAX_DEV_LOSS, DevCheck, DevProbe
from monitor.learn.offsets import Array, Target, evaluate, fit
from monitor.learn.validation import beats, cross_validate, informative

# Relabels in the dashboard record only where people disagreed with the model: a learning set made of
# its mistakes alone shows the boundary's errors on one side and none of the right answers a shift
# would break. Below this share of agreement, the multi-domain dev check must stand in for them.
MIN_CONFIRMED = 0.2


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str
    offsets: tuple[float, float, float]
    report: dict[str, Any]


def decide(
    log_p: Array,
    labels: npt.NDArray[np.int64],
    current: Sequence[float],
    target: Target,
    folds: int,
    probe: Callable[[], DevProbe | None] = lambda: None,
    max_dev_loss: float = MAX_DEV_LOSS,
    current_log_p: Array | None = None,
    current_dev: float | None = None,
) -> Decision:
    """Offsets fitted on all the corrections, accepted only when (1) the model's scores rank the
    corrections better than chance, (2) offsets fitted on k-1 folds beat `current` on the held-back
    fold, on average by more than their standard error, and (3) where the dev probe is available, they
    cost the multi-domain dev score at most one point against `current`. Where the current calibration
    is a fine-tuned model, `current_log_p` are its scores of the corrections and `current_dev` its dev
    score (the probe holds the shipped model's only)."""
    cv = cross_validate(log_p, labels, current, target, folds, current_log_p=current_log_p)
    now = log_p if current_log_p is None else current_log_p
    scores_now = evaluate(now, labels, current)
    fitted = fit(log_p, labels, target, scores_now)
    floor = target.floor(scores_now) if target.allowed_drop is not None else None
    offsets = (float(fitted[0]), float(fitted[1]), float(fitted[2]))
    accepted, reason = informative(log_p, labels)
    if accepted:
        accepted, reason = beats(cv)
    agreed = float(np.mean((now + np.asarray(current)).argmax(axis=1) == labels))
    report: dict[str, Any] = {
        "cross_validation": cv.summary(),
        "current_offsets": [float(x) for x in current],
        "classes": {name: int((labels == i).sum()) for i, name in enumerate(LABELS)},
        "model_agreed": round(agreed, 4),
        "complaint_floor": None if floor is None else round(floor, 4),  # the default target's; else None
    }
    dev = probe() if accepted else None
    if dev is None:
        note = (
            "not needed: refused before it"
            if not accepted
            else f"no dev probe for this model here; {BUILD_HINT}"
        )
        report["dev_check"] = {"ran": False, "note": note}
        if accepted and agreed < MIN_CONFIRMED:
            accepted = False
            reason = (
                f"the corrections are nearly all the model's mistakes (it agreed with {agreed:.0%} of them), "
                "so they cannot tell how many right answers a shift would break; with the dev probe "
                f"the multi-domain check bounds that ({BUILD_HINT}), or import labelled history whose "
                "label column also confirms what the model got right"
            )
    else:
        before = dev.score(current) if current_dev is None else current_dev
        check = DevCheck(before, dev.score(offsets))
        report["dev_check"] = check.as_report()
        refusal = check.refusal(max_dev_loss)
        if refusal is not None:
            accepted, reason = False, refusal
    return Decision(accepted, reason, offsets, report)
