"""`grumble learn` for one watch: fit the class offsets on its corrections, judge them on corrections held
back and on the multi-domain dev set, and activate them only when both say so; then re-score the open inbox.

Offsets first: measured on held-out customer-service tweets (issue 21), offsets chosen on 100-500
corrections moved negative recall 0.73 -> 0.85 (bench/learn.py measures them per set and number of
corrections). With enough corrections the model is also fine-tuned on them with the general mix replayed
(fine_tune.py; fine-tuning on 200 corrections alone collapsed to "everything negative"), and the
fine-tuned model is taken where it beats the offsets on corrections held back (bench/learn_adapt.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine

from models.labels import LABELS
from models.sentiment import log_probabilities
from monitor.config.learn import LearnSettings
from monitor.learn.decide import decide
from monitor.learn.dev_check import DevProbe
from monitor.learn.fine_tune import FineTuneVerdict, fine_tune_check, prefer_fine_tuned, unavailable
from monitor.learn.offsets import NO_OFFSETS, Array, Target
from monitor.score.adapted import adapted_model
from monitor.score.run import Model, score_claimed
from monitor.store.adapted_models import adapted_sha
from monitor.store.calibrations import (
    Calibration,
    activate,
    active_calibration,
    claim_open,
    rollback_target,
    save_calibration,
)
from monitor.store.corrections import Correction, watch_corrections

log = logging.getLogger(__name__)
NOT_HERE = "it takes minutes, so it runs on the schedule ([learn] every_hours) and with `grumble learn`"


@dataclass(frozen=True)
class LearnOutcome:
    """What one watch's learning found and did; `decision` is activated, refused, or skipped (too few
    corrections), and with --dry-run "would activate" / "would refuse"."""

    watch: str
    corrections: int
    decision: str
    reason: str
    target: str = "macro-f1"
    offsets: tuple[float, float, float] | None = None
    report: dict[str, Any] = field(default_factory=dict)
    calibration_id: int | None = None
    rescored: int = 0

    @property
    def activated(self) -> bool:
        return self.decision == "activated"


def learn_watch(
    engine: Engine,
    model: Model,
    watch: str,
    settings: LearnSettings,
    *,
    actor: str,
    dry_run: bool = False,
    probe: Callable[[], DevProbe | None] = lambda: None,
    batch_size: int = 64,
    fine_tune: bool = True,
) -> LearnOutcome:
    """`probe` gives the model's multi-domain dev probe (dev_check.probe), or None where there is none.
    `fine_tune=False` fits offsets only (the dashboard's button: fine-tuning takes minutes)."""
    corrections = watch_corrections(engine, watch)
    target = Target(settings.min_complaint_recall.get(watch), settings.max_recall_drop)
    if len(corrections) < settings.min_corrections:
        return LearnOutcome(
            watch,
            len(corrections),
            "skipped",
            f"{len(corrections)} correction(s); learning needs at least {settings.min_corrections} "
            "([learn] min_corrections)",
            target.name,
        )
    labels = np.array([LABELS.index(c.label) for c in corrections], dtype=np.int64)
    log_p = log_probabilities(model.predict([c.text for c in corrections]))
    current = active_calibration(engine, watch)
    current = current if current and current.model_version == model.version else None
    current_offsets = current.offsets if current else NO_OFFSETS
    now_log_p, now_dev = _current_scores(engine, model, current, [c.text for c in corrections])
    verdict = decide(
        log_p,
        labels,
        current_offsets,
        target,
        settings.folds,
        probe,
        settings.max_dev_loss,
        now_log_p,
        now_dev,
    )
    ok, reason, offsets = verdict.accepted, verdict.reason, verdict.offsets
    report = {**verdict.report, "current_id": current.id if current else None, "kind": "offsets"}
    tuned = None
    if fine_tune:
        tuned = _fine_tune(
            model, corrections, labels, log_p, (current_offsets, now_log_p, now_dev), target, settings, report
        )
    else:
        report["fine_tune"] = {"ran": False, "note": NOT_HERE}
    if tuned is not None and prefer_fine_tuned(tuned, ok, verdict.report):
        ok, reason, offsets = True, tuned.reason, tuned.offsets
        report = {
            **report,
            "kind": "fine-tuned",
            "offsets_check": {k: report.get(k) for k in ("cross_validation", "dev_check")},
            "cross_validation": tuned.report["cross_validation"],
            "dev_check": tuned.report["dev_check"],
        }
    adapted = None
    if report["kind"] == "fine-tuned" and tuned and tuned.sha256 and tuned.weights:
        adapted = (tuned.sha256, tuned.weights, tuned.recipe)
    decision = "activated" if ok else "refused"
    if dry_run:
        return LearnOutcome(
            watch, len(corrections), f"would {decision[:-1]}", reason, target.name, offsets, report
        )
    calibration_id = save_calibration(
        engine,
        watch=watch,
        model_version=model.version,
        offsets=offsets,
        target=target.name,
        corrections=len(corrections),
        report=report,
        decision=decision,
        reason=reason,
        actor=actor,
        adapted=adapted,
    )
    rescored = 0
    if ok:
        activate(engine, watch, calibration_id, actor)
        rescored = rescore_open(engine, model, watch, batch_size)
    log.info("learn %s: %s (%s)", watch, decision, reason)
    return LearnOutcome(
        watch, len(corrections), decision, reason, target.name, offsets, report, calibration_id, rescored
    )


def _current_scores(
    engine: Engine, model: Model, current: Calibration | None, texts: list[str]
) -> tuple[Array | None, float | None]:
    """Where the watch scores with a fine-tuned model now: its log-probabilities of the corrections and
    the dev score it was activated with, which a new calibration must beat (else None, None: the model's
    own scores and the dev probe serve)."""
    if current is None or current.report.get("kind") != "fine-tuned":
        return None, None
    with engine.connect() as connection:
        sha = adapted_sha(connection, current.id)
        if sha is None:
            return None, None
        adapted = adapted_model(connection, model, current.id, sha)
    log_p = log_probabilities(adapted.predict(texts))
    dev = current.report.get("dev_check", {}).get("after")
    return log_p, float(dev) if dev is not None else None


def _fine_tune(
    model: Model,
    corrections: Sequence[Correction],
    labels: npt.NDArray[np.int64],
    log_p: Array,
    current: tuple[Sequence[float], Array | None, float | None],
    target: Target,
    settings: LearnSettings,
    report: dict[str, Any],
) -> FineTuneVerdict | None:
    """Fine-tuning's verdict where it can run (its findings go into `report["fine_tune"]`), else None.
    `current`: the current offsets, and the current fine-tuned model's scores and dev score (or None)."""
    why_not = unavailable(model, settings, len(corrections))
    if why_not is not None:
        report["fine_tune"] = {"ran": False, "note": why_not}
        return None
    log.info("fine-tuning %s on %d corrections (minutes)", model.version, len(corrections))
    offsets, now_log_p, now_dev = current
    tuned = fine_tune_check(
        model, [c.text for c in corrections], labels, log_p, offsets, target, settings, now_log_p, now_dev
    )
    report["fine_tune"] = {**tuned.report, "accepted": tuned.accepted, "reason": tuned.reason}
    return tuned


def rescore_open(engine: Engine, model: Model, watch: str, batch_size: int = 64) -> int:
    """Re-score the watch's open inbox with its calibration now (after learning or a rollback)."""
    done, last = 0, 0
    while True:
        with engine.begin() as connection:
            pending = claim_open(connection, watch, batch_size, after=last)
            if not pending:
                break
            score_claimed(connection, model, pending)
        done += len(pending)
        last = pending[-1].id
    return done


def rollback(engine: Engine, model: Model, watch: str, actor: str) -> tuple[int | None, int | None, int]:
    """Go back to what the watch used before its current calibration; re-score its open inbox.
    Returns (the calibration left, the one now active or None for the model as shipped, re-scored)."""
    target = rollback_target(engine, watch)
    previous = activate(engine, watch, target, actor, action="rollback")
    return previous, target, rescore_open(engine, model, watch)
