"""The storage contract of calibrations on both databases: saved, activated, rolled back step by step,
and found per mention when scoring (the first calibrated watch by name; the latest person's label)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, update

from monitor.mention import Mention
from monitor.score.run import score_pending
from monitor.store.calibrations import (
    CalibrationError,
    activate,
    active_calibration,
    claim_open,
    rollback_target,
    save_calibration,
    scoring_context,
)
from monitor.store.corrections import record_labels, watch_corrections
from monitor.store.mentions import import_mentions
from monitor.store.schema import mentions
from tests.learn.conftest import ToneModel

pytestmark = pytest.mark.both_databases


def calibration(engine: Engine, watch: str, offsets: tuple[float, float, float], version: str = "m1") -> int:
    return save_calibration(
        engine,
        watch=watch,
        model_version=version,
        offsets=offsets,
        target="macro-f1",
        corrections=40,
        report={"cross_validation": {"folds": 5}},
        decision="activated",
        reason="test",
        actor="tester",
    )


def test_activations_roll_back_one_step_at_a_time_to_the_model_as_shipped(engine: Engine) -> None:
    first, second = calibration(engine, "acme", (0.5, 0.0, 0.1)), calibration(engine, "acme", (0.8, 0.0, 0.0))
    with pytest.raises(CalibrationError, match="nothing to roll back"):
        rollback_target(engine, "acme")
    assert activate(engine, "acme", first, "tester") is None
    assert activate(engine, "acme", second, "tester") == first
    current = active_calibration(engine, "acme")
    assert current is not None and current.offsets == (0.8, 0.0, 0.0) and current.report["cross_validation"]
    assert rollback_target(engine, "acme") == first
    activate(engine, "acme", first, "tester", action="rollback")
    assert rollback_target(engine, "acme") is None
    activate(engine, "acme", None, "tester", action="rollback")
    assert active_calibration(engine, "acme") is None


def test_scoring_finds_each_mentions_calibration_and_the_latest_persons_label(engine: Engine) -> None:
    at = datetime(2026, 5, 1, tzinfo=UTC)
    import_mentions(engine, "beta", [Mention("file", "both", "in two watches", at)])
    import_mentions(engine, "acme", [Mention("file", "both", "in two watches", at)])
    import_mentions(engine, "acme", [Mention("file", "one", "only acme", at)])
    import_mentions(engine, "delta", [Mention("file", "none", "a watch that learned nothing", at)])
    import_mentions(engine, "gamma", [Mention("file", "other", "another model's", at)])
    acme, beta = calibration(engine, "acme", (0.5, 0.0, 0.0)), calibration(engine, "beta", (0.2, 0.0, 0.0))
    activate(engine, "acme", acme, "tester")
    activate(engine, "beta", beta, "tester")
    activate(engine, "gamma", calibration(engine, "gamma", (1.0, 0.0, 0.0), version="m0"), "tester")
    assert record_labels(engine, {("file", "one"): "neutral"}, "import:a.csv") == 1
    assert record_labels(engine, {("file", "one"): "negative"}, "import:b.csv") == 1
    assert record_labels(engine, {("file", "one"): "negative"}, "import:b.csv") == 0
    assert [(c.mention_id, c.label) for c in watch_corrections(engine, "acme")] == [(2, "negative")]
    with engine.connect() as connection:
        context = scoring_context(connection, [1, 2, 3, 4], "m1")
    assert context[1].calibration_id == acme  # "acme" before "beta"
    assert context[2].offsets == (0.5, 0.0, 0.0) and context[2].corrected_label == "negative"
    assert 3 not in context and 4 not in context  # uncalibrated; calibrated for another model


def test_the_open_inbox_of_a_watch_is_claimed_for_rescoring(engine: Engine) -> None:
    at = datetime(2026, 5, 1, tzinfo=UTC)
    import_mentions(engine, "acme", [Mention("file", f"m{i}", f"text {i} tone -0.50", at) for i in range(4)])
    import_mentions(engine, "beta", [Mention("file", "other", "another watch's", at)])
    score_pending(engine, ToneModel())
    import_mentions(engine, "acme", [Mention("file", "unscored", "waits for its first score", at)])
    with engine.begin() as connection:
        connection.execute(update(mentions).where(mentions.c.external_id == "m1").values(triage="handled"))
        connection.execute(update(mentions).where(mentions.c.external_id == "m2").values(deleted_at=at))
    with engine.begin() as connection:
        claimed = claim_open(connection, "acme", limit=10)
        assert [p.text for p in claimed] == ["text 0 tone -0.50", "text 3 tone -0.50"]
        assert [p.id for p in claim_open(connection, "acme", limit=10, after=claimed[0].id)] == [
            claimed[1].id
        ]
