"""`[learn]` in grumble.toml: defaults, a watch's complaint target, and errors that say what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.config.load import parse_config
from monitor.errors import ConfigError

WATCHES = [{"name": "acme", "keywords": ["acme"]}]


def learn(section: dict[str, Any]) -> Any:
    return parse_config({"watches": WATCHES, "learn": section}, None, {}).learn


def test_defaults_and_a_watchs_complaint_target() -> None:
    settings = learn({"min_complaint_recall": {"acme": 0.88}, "max_dev_loss": 0.03})
    assert (settings.every_hours, settings.min_corrections, settings.folds) == (24.0, 30, 5)
    assert settings.min_complaint_recall == {"acme": 0.88} and settings.max_dev_loss == 0.03
    assert settings.max_recall_drop == 0.05
    assert learn({"max_recall_drop": 1}).max_recall_drop == 1.0  # the default target without a floor
    assert (settings.fine_tune_min_corrections, settings.fine_tune_folds, settings.replay_data) == (
        200,
        3,
        None,
    )


def test_fine_tuning_settings() -> None:
    settings = learn({"fine_tune_min_corrections": 0, "replay_data": " ~/labelled "})
    assert settings.fine_tune_min_corrections == 0  # never
    assert settings.replay_data == Path("~/labelled").expanduser()


@pytest.mark.parametrize(
    ("section", "said"),
    [
        (
            {"min_complaint_recall": {"nope": 0.9}},
            "learn.min_complaint_recall.nope: expected a configured watch",
        ),
        ({"min_complaint_recall": {"acme": 88}}, "expected a share of complaints between 0 and 1, like 0.88"),
        (
            {"folds": 5, "min_corrections": 10},
            "learn.min_corrections: expected a whole number of at least 15",
        ),
        ({"every_day": True}, "unknown key 'learn.every_day'"),
        (
            {"fine_tune_min_corrections": 20},
            "learn.fine_tune_min_corrections: expected 0",
        ),
        ({"fine_tune_folds": 1}, "learn.fine_tune_folds: expected a whole number from 2 to 10"),
        ({"replay_data": 3}, "learn.replay_data: expected a string"),
        ({"max_recall_drop": 5}, "learn.max_recall_drop: expected a share of complaints between 0 and 1"),
    ],
)
def test_bad_settings_say_what_to_fix(section: dict[str, Any], said: str) -> None:
    with pytest.raises(ConfigError, match=said.replace(".", r"\.").replace("(", r"\(")):
        learn(section)
