"""Fine-tuning as a watch's calibration: with enough corrections, the model itself is fine-tuned on them
with the general training mix replayed (models/training/adapt.py), judged like offsets are, and kept only
when it wins.

The rule, in order: the corrections must agree with the model's ranking better than chance (random
labels stop here, before any training); fine-tuned on k-1 folds of the corrections, with offsets for the
watch's operating point fitted on the other folds' held-out scores, the model must beat the current
calibration on the held-back fold, on average by more than the folds' standard error; and
fine-tuned on all of them, it may cost the multi-domain dev score at most `max_dev_loss` against the
current calibration. `run.py` then takes it over offsets only where its held-back gain is the larger.

Fine-tuning needs what offsets do not: the model's weights (a Grumble-trained model directory) and the
labelled sets, whose training rows are replayed and whose dev splits are the multi-domain check
(`[learn] replay_data`, by default ../shared/data/sentiment). Without them it is skipped, and the report
says why. It takes minutes on two cores (about a minute per fold for 300 corrections).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from monitor.config.learn import LearnSettings
from monitor.learn.dev_check import DevCheck, DevProbe
from monitor.learn.offsets import NO_OFFSETS, Array, Target, evaluate, fit
from monitor.learn.validation import (
    beats,
    cross_validate,
    held_back_gain,
    informative,
    stratified_folds,
)

if TYPE_CHECKING:
    from models.training import corpus
    from models.training.adapt import AdaptRecipe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FineTuneVerdict:
    accepted: bool
    reason: str
    report: dict[str, Any]
    weights: bytes | None = None
    sha256: str | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    offsets: tuple[float, float, float] = NO_OFFSETS  # the operating point on the fine-tuned model

    @property
    def gain(self) -> float:
        return held_back_gain(self.report)


def prefer_fine_tuned(
    tuned: FineTuneVerdict | None, offsets_accepted: bool, offsets_report: dict[str, Any]
) -> bool:
    """Whether a watch takes its fine-tuned model over its offsets: when fine-tuning passed its own
    checks and the offsets did not, or gained more on the corrections held back."""
    if tuned is None or not tuned.accepted:
        return False
    return not offsets_accepted or tuned.gain > held_back_gain(offsets_report)


def adapt_recipe() -> AdaptRecipe:
    """How a watch's model is fine-tuned (bench/learn_adapt.py measured it); one place to change it."""
    from models.training.adapt import AdaptRecipe

    return AdaptRecipe()


def replay_dir(settings: LearnSettings) -> Path:
    if settings.replay_data is not None:
        return settings.replay_data
    from models.training.data import DATA_DIR

    return DATA_DIR


def unavailable(model: Any, settings: LearnSettings, corrections: int) -> str | None:
    """Why the model cannot be fine-tuned here, or None when it can."""
    from models.bundle import read_grumble_config

    if settings.fine_tune_min_corrections == 0:
        return "fine-tuning is off ([learn] fine_tune_min_corrections = 0)"
    if corrections < settings.fine_tune_min_corrections:
        return (
            f"fine-tuning needs at least {settings.fine_tune_min_corrections} corrections "
            f"([learn] fine_tune_min_corrections); {corrections} so far"
        )
    directory = getattr(model, "directory", None)
    if not isinstance(directory, Path) or read_grumble_config(directory) is None:
        return f"{model.version} is not a Grumble-trained model directory, so it cannot be fine-tuned here"
    sets = replay_sets(replay_dir(settings))
    if not sets:
        return (
            f"no labelled sets under {replay_dir(settings)} to replay beside the corrections and to check "
            "against; set [learn] replay_data to the folder holding them (../shared/data/sentiment)"
        )
    return None


def replay_sets(data_dir: Path) -> list[str]:
    from models.training.corpus import SOURCES

    return [item.name for item in SOURCES if (data_dir / item.name).is_dir()]


def fine_tune_check(
    model: Any,
    texts: Sequence[str],
    labels: npt.NDArray[np.int64],
    log_p: Array,
    current: Sequence[float],
    target: Target,
    settings: LearnSettings,
    current_log_p: Array | None = None,
    current_dev: float | None = None,
) -> FineTuneVerdict:
    """Cross-validate fine-tuning on the corrections, then fine-tune on all and check the dev score.
    `current_log_p` and `current_dev`: as decide.decide takes them, where the current is fine-tuned."""
    from models.adapted import digest, trained_part
    from models.training import adapt, corpus

    ok, reason = informative(log_p, labels)
    if not ok:
        return FineTuneVerdict(False, reason, {"ran": False})
    started = time.time()
    data_dir = replay_dir(settings)
    mix = corpus.load(data_dir, names=replay_sets(data_dir))
    replay = adapt.replay_pool(mix, settings.replay_rows, seed=7)
    recipe = adapt_recipe()
    base_dir: Path = model.directory
    splits = stratified_folds(labels, settings.fine_tune_folds)
    held_out = np.zeros_like(log_p)  # each correction scored by the model fine-tuned without its fold
    for number, (train, test) in enumerate(splits, start=1):
        tuned, tokenizer = adapt.load(base_dir)
        adapt.adapt(tuned, tokenizer, [texts[i] for i in train], labels[train].tolist(), replay, recipe)
        held_out[test] = adapt.log_probabilities(tuned, tokenizer, [texts[i] for i in test])
        log.info(
            "fine-tuning fold %d of %d done (%.1f min)", number, len(splits), (time.time() - started) / 60
        )
    # The operating point on top: offsets fitted on the other folds' held-out scores, judged on this fold's
    # (the same seeded splits the models were fine-tuned on), against the current calibration's scores.
    now = log_p if current_log_p is None else current_log_p
    cv = cross_validate(held_out, labels, current, target, settings.fine_tune_folds, current_log_p=now)
    fitted = fit(held_out, labels, target, evaluate(now, labels, current))
    offsets = (float(fitted[0]), float(fitted[1]), float(fitted[2]))
    report: dict[str, Any] = {
        "ran": True,
        "cross_validation": cv.summary(),
        "offsets": list(offsets),
        "recipe": recipe.as_dict(),
        "replayed_sets": sorted(mix.train),
    }
    ok, reason = beats(cv)
    if not ok:
        report["minutes"] = round((time.time() - started) / 60, 1)
        return FineTuneVerdict(False, f"fine-tuned: {reason}", report)
    tuned, tokenizer = adapt.load(base_dir)
    # Scored before it is trained, the model to fine-tune is still the base: no second copy to load.
    before = current_dev if current_dev is not None else _probe(tuned, tokenizer, mix).score(current)
    adapt.adapt(tuned, tokenizer, list(texts), labels.tolist(), replay, recipe)
    check = DevCheck(before, _probe(tuned, tokenizer, mix).score(offsets))
    report["dev_check"] = check.as_report()
    report["minutes"] = round((time.time() - started) / 60, 1)
    refusal = check.refusal(settings.max_dev_loss)
    if refusal is not None:
        return FineTuneVerdict(False, f"fine-tuned, {refusal}", report)
    weights = trained_part(tuned.state_dict())
    return FineTuneVerdict(
        True, f"fine-tuned: {reason}", report, weights, digest(weights), recipe.as_dict(), offsets
    )


def _probe(model: Any, tokenizer: Any, mix: corpus.Corpus) -> DevProbe:
    """The model's scores on the dev splits of the replayed sets: the multi-domain check."""
    from models.training import adapt
    from models.training.dev_probe import probe_of

    return probe_of(
        {name: adapt.log_probabilities(model, tokenizer, ds.texts) for name, ds in mix.dev.items()}, mix.dev
    )
