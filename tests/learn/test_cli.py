"""`grumble import` with a label column, `grumble learn` and `grumble model status|history|rollback`."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli.parser import main
from tests.learn.conftest import ToneModel, history_rows, write_csv


def test_learn_and_model_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "grumble.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "g.db"}"\n'
        '[[watches]]\nname = "acme"\nkeywords = ["acme"]\n'
        "[learn]\nmin_corrections = 30\n[learn.min_complaint_recall]\nacme = 0.9\n",
        encoding="utf-8",
    )
    monkeypatch.setattr("monitor.score.run.load_model", lambda name: ToneModel())
    # The multi-domain dev check reads the labelled sets; its rule is tested in test_learn_flow.py.
    monkeypatch.setenv("GRUMBLE_MODEL_CACHE", str(tmp_path / "cache"))  # holds no dev probe
    history = write_csv(tmp_path / "history.csv", history_rows(200, seed=11))

    def grumble(*args: str) -> tuple[int, str, str]:
        code = main(["-c", str(config), *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = grumble("import", str(history), "--watch", "acme", "--no-score")
    assert code == 0 and "kept 200 label(s) of the label column as corrections" in out

    code, out, _ = grumble("learn", "--watch", "acme", "--dry-run")
    assert code == 0 and out.startswith("acme: would activate (200 corrections, target recall>=0.90)")
    assert "negative recall" in out and "before" in out and "after" in out
    assert "multi-domain dev check: no dev probe for this model here; build it with" in out

    code, out, _ = grumble("learn")
    assert code == 0 and "acme: activated" in out
    assert "learned from 200 corrections: complaints caught" in out and "calibration 1 active" in out

    code, out, _ = grumble("model", "status")
    assert out.startswith("acme: #1 ") and "activated" in out and "recall>=0.90" in out

    code, out, _ = grumble("model", "rollback", "--watch", "acme")
    assert code == 0 and "rolled back from calibration #1 to the model as shipped" in out
    code, out, _ = grumble("model", "history", "--watch", "acme")
    assert "1 calibration(s) fitted, 2 change(s)" in out and "rollback #1 -> shipped" in out

    code, _, err = grumble("model", "rollback", "--watch", "acme")
    assert code == 1 and "nothing to roll back" in err
    code, _, err = grumble("learn", "--watch", "nope")
    assert code == 2 and "no watch named 'nope'" in err
