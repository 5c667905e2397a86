"""What learning found, in words: the CLI prints these lines and the dashboard shows the headline."""

from __future__ import annotations

from typing import Any

from monitor.learn.run import LearnOutcome
from monitor.store.calibrations import Calibration


def _figure(side: dict[str, Any], key: str) -> str:
    return f"{side[key]['mean']:.3f} ± {side[key]['spread']:.3f}"


def headline(corrections: int, report: dict[str, Any]) -> str:
    """ "learned from 312 corrections: complaints caught 76% -> 88% on corrections held back"."""
    cv = report.get("cross_validation")
    if not cv:
        return f"{corrections} corrections"
    before = cv["before"]["neg_recall"]["mean"]
    after = cv["after"]["neg_recall"]["mean"]
    return (
        f"learned from {corrections} corrections: complaints caught {before:.0%} -> {after:.0%} "
        "on corrections held back"
    )


def cross_validation_lines(report: dict[str, Any]) -> list[str]:
    cv = report.get("cross_validation")
    if not cv:
        return []
    lines = [f"  cross-validated over {cv['folds']} folds of the corrections (mean ± spread across folds):"]
    for label, key in (
        ("negative recall", "neg_recall"),
        ("negative precision", "neg_precision"),
        ("macro-F1", "macro_f1"),
    ):
        lines.append(
            f"    {label:<19} before {_figure(cv['before'], key)}   after {_figure(cv['after'], key)}"
        )
    dev = report.get("dev_check", {})
    if dev.get("ran"):
        lines.append(f"  multi-domain dev score: {dev['before']:.4f} -> {dev['after']:.4f}")
    else:
        lines.append(f"  multi-domain dev check: {dev.get('note', 'not run')}")
    return lines


def outcome_lines(outcome: LearnOutcome) -> list[str]:
    lines = [
        f"{outcome.watch}: {outcome.decision} ({outcome.corrections} corrections, target {outcome.target})"
    ]
    floor = outcome.report.get("complaint_floor")
    if floor is not None:
        lines.append(
            f"  the best macro-F1 that still catches at least {floor:.0%} of the complaints among the "
            "corrections ([learn] max_recall_drop below what it catches now)"
        )
    fine_tuned = outcome.report.get("kind") == "fine-tuned"
    if fine_tuned:
        lines.append("  the model fine-tuned on the corrections, with the general training mix replayed")
    if outcome.offsets is not None and (not fine_tuned or any(outcome.offsets)):
        neg, neu, pos = outcome.offsets
        on = " on top" if fine_tuned else ""
        lines.append(f"  offsets{on} negative {neg:+.2f}, neutral {neu:+.2f}, positive {pos:+.2f}")
    lines += cross_validation_lines(outcome.report)
    lines.append(f"  {outcome.reason}")
    lines += fine_tune_lines(outcome.report, fine_tuned)
    if outcome.activated:
        lines.append(f"  {headline(outcome.corrections, outcome.report)}")
        lines.append(
            f"  calibration {outcome.calibration_id} active; {outcome.rescored} open mention(s) re-scored"
        )
    return lines


def fine_tune_lines(report: dict[str, Any], chosen: bool) -> list[str]:
    """What fine-tuning found, where it was not what was chosen (when it was, the lines above are its)."""
    tuned = report.get("fine_tune")
    if not tuned or chosen:
        return []
    if not tuned.get("ran"):
        return [f"  fine-tuning: not run: {tuned.get('note') or tuned.get('reason', '')}".rstrip()]
    lines = [f"  fine-tuning ({tuned.get('minutes', '?')} min): {tuned['reason']}"]
    cv = tuned.get("cross_validation")
    if cv:
        lines.append(
            f"    on corrections held back: macro-F1 {_figure(cv['before'], 'macro_f1')} -> "
            f"{_figure(cv['after'], 'macro_f1')}, negative recall {_figure(cv['before'], 'neg_recall')} -> "
            f"{_figure(cv['after'], 'neg_recall')}"
        )
    if tuned.get("accepted"):
        lines.append("    it passed, but the offsets gained more on corrections held back")
    return lines


def calibration_line(calibration: Calibration) -> str:
    neg, neu, pos = calibration.offsets
    what = (
        "fine-tuned model"
        if calibration.report.get("kind") == "fine-tuned"
        else f"offsets {neg:+.2f}/{neu:+.2f}/{pos:+.2f}"
    )
    return (
        f"#{calibration.id} {calibration.created_at:%Y-%m-%d %H:%M} {calibration.decision:<9} "
        f"{calibration.target:<13} {what} "
        f"on {calibration.corrections} corrections, model {calibration.model_version}, "
        f"by {calibration.created_by}"
    )
