"""The Model page (admins): what a watch learned, learning now, and rolling back, through the real app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from monitor.store.calibrations import activate, active_calibration, save_calibration
from tests.dashboard.conftest import Seeded, make_store, run_app

__all__ = ["make_store"]  # the dashboard tests' seeded store, a fixture

REPORT = {
    "cross_validation": {
        "folds": 5,
        "before": {"neg_recall": {"mean": 0.76, "spread": 0.03}},
        "after": {"neg_recall": {"mean": 0.88, "spread": 0.02}},
    }
}


def test_the_page_says_what_was_learned_and_rolls_it_back(
    make_store: Callable[[str], Seeded], tiny_model_dir: Path
) -> None:
    seeded = make_store(f'[model]\nname = "{tiny_model_dir}"\n[learn]\nmin_corrections = 15\n')
    calibration = save_calibration(
        seeded.engine,
        watch="acme",
        model_version="v1",
        offsets=(0.6, 0.0, 0.1),
        target="macro-f1",
        corrections=312,
        report=REPORT,
        decision="activated",
        reason="it beats the current calibration on corrections held back",
        actor="admin",
    )
    activate(seeded.engine, "acme", calibration, "admin")

    app = run_app("views/model.py")
    assert [s.value.replace("\\", "") for s in app.success] == [  # shown escaped, as Markdown
        "learned from 312 corrections: complaints caught 76% -> 88% on corrections held back"
    ]
    assert "0** correction(s) so far; learning needs 15" in app.markdown[0].value
    assert (
        "the best macro-F1 that catches at most 5 points fewer complaints than now" in app.markdown[0].value
    )

    app.button(key="learn_acme").click().run()
    assert "acme: skipped (0 corrections, target macro-f1)" in app.code[0].value

    app.button(key="rollback_acme").click().run()
    assert "rolled back from calibration #1 to the model as shipped" in app.code[0].value
    assert active_calibration(seeded.engine, "acme") is None
    assert [i.value for i in app.info] == ["Scores with the model as shipped: nothing learned yet."]
    assert app.button(key="rollback_acme").disabled
