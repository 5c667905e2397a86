"""`[learn]`: how watches learn from their people's corrections (monitor/learn/, `grumble learn`).

[learn]
every_hours = 24          # the scheduled `grumble learn`; 0: only by hand or from the dashboard
min_corrections = 30      # a watch with fewer is not learned from yet
folds = 5                 # cross-validation on the corrections
max_dev_loss = 0.01       # what a watch's offsets may cost the multi-domain dev score (0.01: a point)
[learn.min_complaint_recall]
acme = 0.88               # this watch's operating point: catch at least 88% of complaints
                          # (others: the best macro-F1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.config.tables import TableReader
from monitor.config.watches import check_watch
from monitor.mention import Watch

LEARN_KEYS = {"every_hours", "min_corrections", "folds", "max_dev_loss", "min_complaint_recall"}


@dataclass(frozen=True)
class LearnSettings:
    every_hours: float = 24.0
    min_corrections: int = 30
    folds: int = 5
    # A watch's offsets apply to its own mentions only; this bounds how far they may move the model off
    # the five domains' balance (bench/learn.py measures what it refuses).
    max_dev_loss: float = 0.01
    # watch name -> the share of complaints (negative recall) it must catch at least.
    min_complaint_recall: Mapping[str, float] = field(default_factory=dict)


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
    return LearnSettings(
        every_hours=reader.number("every_hours", 24.0),
        # At least one class then has a correction in every fold (stratified k-fold needs that).
        min_corrections=reader.integer("min_corrections", 30, minimum=3 * folds),
        folds=folds,
        max_dev_loss=reader.number("max_dev_loss", 0.01),
        min_complaint_recall=recall,
    )
