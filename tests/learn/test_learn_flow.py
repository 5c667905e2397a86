"""A watch learns from its corrections end to end on SQLite: labelled history imported, scored, learned
from, activated, its open inbox re-scored with the calibration named, and rolled back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, select

from models.labels import LABELS
from models.sentiment import log_probabilities
from monitor.collect.file_import import import_file
from monitor.config.learn import LearnSettings
from monitor.learn.describe import outcome_lines
from monitor.learn.dev_check import DevProbe
from monitor.learn.offsets import evaluate
from monitor.learn.run import learn_watch, rollback
from monitor.score.run import score_pending
from monitor.sources.tabular import EXPORTED_LABEL
from monitor.store.calibrations import activate, active_calibration, history, save_calibration
from monitor.store.corrections import watch_corrections
from monitor.store.filters import MentionFilter
from monitor.store.mentions import iter_all
from monitor.store.schema import mentions
from monitor.surface.export import write_csv as export_csv
from tests.learn.conftest import ToneModel, history_rows, write_csv

SETTINGS = LearnSettings(min_corrections=30, folds=5)


def stored(engine: Engine, external_id: str) -> dict[str, object]:
    with engine.connect() as connection:
        row = connection.execute(select(mentions).where(mentions.c.external_id == external_id)).one()
    return dict(row._mapping)


def import_history(engine: Engine, tmp_path: Path, watch: str, rows: list[dict[str, str]]) -> int:
    report = import_file(engine, watch, write_csv(tmp_path / f"{watch}.csv", rows))
    return report.labelled


def test_imported_labels_are_corrections_and_a_bad_label_keeps_its_row(
    sqlite_engine: Engine, tmp_path: Path, tone_model: ToneModel
) -> None:
    rows = history_rows(5, seed=1)
    rows[1]["label"] = "Negative "  # any case, spaces around: still a label
    rows[2]["label"] = "angry"
    rows[3]["label"] = ""
    report = import_file(sqlite_engine, "acme", write_csv(tmp_path / "h.csv", rows))
    assert report.new == 5 and report.labelled == 3
    assert [str(w) for w in report.warnings] == [
        "line 4: label 'angry' is not negative, neutral or positive; the row is imported without a label "
        "(fix the value, or map another column with --column label=COLUMN)"
    ]
    assert [c.label for c in watch_corrections(sqlite_engine, "acme")] == [
        rows[0]["label"],
        "negative",
        rows[4]["label"],
    ]
    again = import_file(sqlite_engine, "acme", write_csv(tmp_path / "h.csv", rows))
    assert again.labelled == 0  # the same file twice keeps each label once

    score_pending(sqlite_engine, tone_model)
    labelled, unlabelled = stored(sqlite_engine, rows[1]["id"]), stored(sqlite_engine, rows[2]["id"])
    assert labelled["label"] == "negative"  # the person's label stays; the model's is its text label
    assert labelled["text_label"] == tone_model.predict([rows[1]["text"]])[0].label
    assert unlabelled["label"] == unlabelled["text_label"]


def test_an_exports_label_column_is_the_models_and_is_not_kept(
    sqlite_engine: Engine, tmp_path: Path, tone_model: ToneModel
) -> None:
    unlabelled = [{k: v for k, v in row.items() if k != "label"} for row in history_rows(3, seed=8)]
    import_file(sqlite_engine, "acme", write_csv(tmp_path / "plain.csv", unlabelled))
    score_pending(sqlite_engine, tone_model)
    exported = tmp_path / "export.csv"
    with exported.open("w", encoding="utf-8", newline="") as handle:
        export_csv(iter_all(sqlite_engine, MentionFilter()), handle)
    report = import_file(sqlite_engine, "beta", exported)
    assert report.new == 0 and report.labelled == 0
    assert [w.message for w in report.warnings] == [EXPORTED_LABEL]  # said once for the file
    assert watch_corrections(sqlite_engine, "beta") == []


def test_a_watch_learns_activates_rescores_its_open_inbox_and_rolls_back(
    sqlite_engine: Engine, tmp_path: Path, tone_model: ToneModel
) -> None:
    assert import_history(sqlite_engine, tmp_path, "acme", history_rows(300, seed=2)) == 300
    inbox = [
        {"id": f"new-{i}", "text": f"order {i} tone {tone:+.2f}"} for i, tone in enumerate((-0.7, 0.1, 0.6))
    ]
    import_file(sqlite_engine, "acme", write_csv(tmp_path / "inbox.csv", inbox))
    score_pending(sqlite_engine, tone_model)
    assert stored(sqlite_engine, "new-0")["text_label"] == "neutral"  # a mild complaint the model misses

    dry = learn_watch(sqlite_engine, tone_model, "acme", SETTINGS, actor="test", dry_run=True)
    assert dry.decision == "would activate" and active_calibration(sqlite_engine, "acme") is None

    outcome = learn_watch(sqlite_engine, tone_model, "acme", SETTINGS, actor="test")
    assert outcome.activated, outcome.reason
    cv = outcome.report["cross_validation"]
    assert cv["after"]["neg_recall"]["mean"] > cv["before"]["neg_recall"]["mean"] + 0.2
    assert outcome.rescored == 303  # the open inbox: the history and the new mentions
    active = active_calibration(sqlite_engine, "acme")
    assert active is not None and active.id == outcome.calibration_id and active.offsets[0] > 0.3
    complaint = stored(sqlite_engine, "new-0")
    assert complaint["text_label"] == "negative" and complaint["calibration_id"] == active.id
    later = [{"id": "later", "text": "order 9 tone -0.70"}]
    import_file(sqlite_engine, "acme", write_csv(tmp_path / "later.csv", later))
    score_pending(sqlite_engine, tone_model)
    assert stored(sqlite_engine, "later")["calibration_id"] == active.id  # new mentions take it too

    again = learn_watch(sqlite_engine, tone_model, "acme", SETTINGS, actor="test")
    assert again.decision == "refused" and "current calibration" in again.reason

    previous, now, rescored = rollback(sqlite_engine, tone_model, "acme", "test")
    assert (previous, now) == (active.id, None) and rescored == 304
    assert stored(sqlite_engine, "new-0")["calibration_id"] is None
    assert stored(sqlite_engine, "new-0")["text_label"] == "neutral"
    fitted, events = history(sqlite_engine, "acme")
    assert [c.decision for c in fitted] == ["activated", "refused"]
    assert [(e.action, e.previous_id, e.calibration_id) for e in events] == [
        ("activate", None, active.id),
        ("rollback", active.id, None),
    ]


def test_the_default_target_keeps_what_a_watch_catches_now_within_max_recall_drop(
    sqlite_engine: Engine, tmp_path: Path, tone_model: ToneModel
) -> None:
    import_history(sqlite_engine, tmp_path, "acme", history_rows(300, seed=12))
    score_pending(sqlite_engine, tone_model)
    # The watch calls nearly everything a complaint now: the best macro-F1 alone would undo most of it.
    eager = save_calibration(
        sqlite_engine,
        watch="acme",
        model_version=tone_model.version,
        offsets=(1.5, 0.0, 0.0),
        target="macro-f1",
        corrections=300,
        report={"kind": "offsets"},
        decision="activated",
        reason="set by hand",
        actor="test",
    )
    activate(sqlite_engine, "acme", eager, "test")
    labels = np.array([LABELS.index(c.label) for c in watch_corrections(sqlite_engine, "acme")])
    log_p = log_probabilities(tone_model.predict([c.text for c in watch_corrections(sqlite_engine, "acme")]))
    caught_now = evaluate(log_p, labels, (1.5, 0.0, 0.0)).neg_recall

    free = learn_watch(
        sqlite_engine, tone_model, "acme", replace(SETTINGS, max_recall_drop=1.0), actor="t", dry_run=True
    )
    guarded = learn_watch(sqlite_engine, tone_model, "acme", SETTINGS, actor="test", dry_run=True)
    assert free.report["complaint_floor"] is None
    assert guarded.report["complaint_floor"] == round(caught_now - 0.05, 4)
    assert free.offsets is not None and guarded.offsets is not None
    assert evaluate(log_p, labels, free.offsets).neg_recall < caught_now - 0.1
    assert evaluate(log_p, labels, guarded.offsets).neg_recall >= caught_now - 0.05
    assert guarded.decision == "would activate", guarded.reason  # still better macro-F1 than eager
    said = "\n".join(outcome_lines(guarded))
    assert f"catches at least {caught_now - 0.05:.0%} of the complaints among the corrections" in said


def test_random_labels_and_too_few_corrections_are_refused(
    sqlite_engine: Engine, tmp_path: Path, tone_model: ToneModel
) -> None:
    import_history(sqlite_engine, tmp_path, "noise", history_rows(300, seed=3, random_labels=True))
    import_history(sqlite_engine, tmp_path, "small", history_rows(12, seed=4))
    noise = learn_watch(sqlite_engine, tone_model, "noise", SETTINGS, actor="test")
    assert noise.decision == "refused" and "no better than chance" in noise.reason
    small = learn_watch(sqlite_engine, tone_model, "small", SETTINGS, actor="test")
    assert small.decision == "skipped" and "at least 30" in small.reason
    assert active_calibration(sqlite_engine, "noise") is None
    assert active_calibration(sqlite_engine, "small") is None


def test_offsets_that_cost_the_multi_domain_dev_set_are_refused(
    sqlite_engine: Engine, tmp_path: Path, tone_model: ToneModel
) -> None:
    import_history(sqlite_engine, tmp_path, "acme", history_rows(300, seed=5))
    # A dev set the model reads right only without a shift: any push toward negative costs it.
    margin = np.array([[-0.7, -0.5, -2.0]] * 50 + [[-2.0, -0.5, -0.7]] * 50)
    probe = DevProbe({"tweets": margin}, {"tweets": [1] * 100}, {"tweets": "tweets"})
    outcome = learn_watch(sqlite_engine, tone_model, "acme", SETTINGS, actor="test", probe=lambda: probe)
    assert outcome.decision == "refused"
    assert "cost the multi-domain dev set" in outcome.reason
    assert outcome.report["dev_check"]["before"] > outcome.report["dev_check"]["after"]


def test_relabels_of_mistakes_alone_need_the_dev_check(
    sqlite_engine: Engine, tmp_path: Path, tone_model: ToneModel
) -> None:
    # What dashboard relabels hold: only the texts where people disagreed with the model.
    rows = history_rows(900, seed=6)
    said = tone_model.predict([row["text"] for row in rows])
    mistakes = [row for row, score in zip(rows, said, strict=True) if score.label != row["label"]]
    import_history(sqlite_engine, tmp_path, "acme", mistakes)
    alone = learn_watch(sqlite_engine, tone_model, "acme", SETTINGS, actor="test", dry_run=True)
    assert alone.decision == "would refuse" and "nearly all the model's mistakes" in alone.reason
    assert alone.report["model_agreed"] == 0.0

    # Fitted to mistakes alone, the offsets overshoot (they never see the right answers they break):
    # the dev check, once its probe is built, is what stops them.
    assert alone.offsets is not None and min(alone.offsets[0], alone.offsets[2]) > 1.0  # about 0.6 is right
    neutral = np.array([[-1.5, -0.4, -1.5]] * 100)
    probe = DevProbe({"tweets": neutral}, {"tweets": [1] * 100}, {"tweets": "tweets"})
    checked = learn_watch(sqlite_engine, tone_model, "acme", SETTINGS, actor="test", probe=lambda: probe)
    assert checked.decision == "refused" and "cost the multi-domain dev set" in checked.reason
