"""`[learn]`: how watches learn from their people's corrections (monitor/learn/, `grumble learn`).

[learn]
every_hours = 24          # the scheduled `grumble learn`; 0: only by hand or from the dashboard
min_corrections = 30      # a watch with fewer is not learned from yet
folds = 5                 # cross-validation on the corrections
max_dev_loss = 0.01       # what a watch's offsets may cost the multi-domain dev score (0.01: a point)
max_recall_drop = 0.05    # how far the default target (best macro-F1) may lower the share of complaints
                          # caught on the corrections (0.05: 5 points); 1: no floor
fine_tune_min_corrections = 200   # with this many, the model is also fine-tuned on them; 0: never
fine_tune_folds = 3       # cross-validation of fine-tuning (each fold trains: about a minute)
replay_data = "/srv/grumble/sentiment"   # the labelled sets replayed beside the corrections
                          # (default ../shared/data/sentiment, or $GRUMBLE_SENTIMENT_DATA)
[learn.min_complaint_recall]
acme = 0.88               # this watch's operating point: catch at least 88% of complaints
                          # (others: the best macro-F1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from monitor.config.tables import TableReader
from monitor.config.watches import check_watch
from monitor.mention import Watch

LEARN_KEYS = {
    "every_hours",
    "min_corrections",
    "folds",
    "max_dev_loss",
    "max_recall_drop",
    "min_complaint_recall",
    "fine_tune_min_corrections",
    "fine_tune_folds",
    "replay_data",
}


@dataclass(frozen=True)
class LearnSettings:
    every_hours: float = 24.0
    min_corrections: int = 30
    folds: int = 5
    # A watch's offsets apply to its own mentions only; this bounds how far they may move the model off
    # the five domains' balance (bench/learn.py measures what it refuses).
    max_dev_loss: float = 0.01
    # The default target may trade at most this much negative recall for macro-F1 (offsets.Target.floor).
    max_recall_drop: float = 0.05
    # watch name -> the share of complaints (negative recall) it must catch at least.
    min_complaint_recall: Mapping[str, float] = field(default_factory=dict)
    # Fewer corrections than this fine-tune nothing (bench/learn_adapt.py measures where it starts to pay).
    fine_tune_min_corrections: int = 200
    fine_tune_folds: int = 3
    replay_data: Path | None = None  # None: models.training.data.DATA_DIR
    replay_rows: int = 20000  # general-mix rows drawn to replay from (a few per correction per epoch)


def parse_learn(root: TableReader, watches: tuple[Watch, ...]) -> LearnSettings:
    reader = root.sub("learn")
    reader.reject_unknown(LEARN_KEYS)
    targets = reader.sub("min_complaint_recall")
    recall: dict[str, float] = {}
    for name in targets.table:
        check_watch(targets, name, name, watches, "a configured watch")
        value = targets.number(name, 0.0)
        if not 0.0 < value < 1.0:
            raise targets.fail(name, "a share of complaints between 0 and 1, like 0.88", value)
        recall[name] = value
    folds = reader.integer("folds", 5, minimum=2, maximum=20)
    max_recall_drop = reader.number("max_recall_drop", 0.05)
    if not 0.0 <= max_recall_drop <= 1.0:
        raise reader.fail(
            "max_recall_drop",
            "a share of complaints between 0 and 1, like 0.05 (5 points); 1 lets the default target "
            "trade any number of caught complaints for macro-F1",
            max_recall_drop,
        )
    fine_tune_min = reader.integer("fine_tune_min_corrections", 200, minimum=0)
    if 0 < fine_tune_min < 50:
        raise reader.fail(
            "fine_tune_min_corrections",
            "0 (never fine-tune) or at least 50: below that, fine-tuning cannot be told apart from noise",
            fine_tune_min,
        )
    replay = reader.text("replay_data")
    return LearnSettings(
        every_hours=reader.number("every_hours", 24.0),
        # At least one class then has a correction in every fold (stratified k-fold needs that).
        min_corrections=reader.integer("min_corrections", 30, minimum=3 * folds),
        folds=folds,
        max_dev_loss=reader.number("max_dev_loss", 0.01),
        max_recall_drop=max_recall_drop,
        min_complaint_recall=recall,
        fine_tune_min_corrections=fine_tune_min,
        fine_tune_folds=reader.integer("fine_tune_folds", 3, minimum=2, maximum=10),
        replay_data=Path(replay).expanduser() if replay else None,
    )
