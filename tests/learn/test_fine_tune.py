"""A watch's model fine-tuned on its corrections with the general mix replayed (monitor/learn/fine_tune.py):
a real (tiny) Grumble model directory is fine-tuned, judged, stored with its calibration, made again
by the scorer, and rolled back; random labels are refused.

The domain: generic texts say their tone with a word ("awful seat 3", "great app 7", and "the gate 5" is
neutral); this watch's customers also complain with "bag lost seat 12", which the base model
was never taught and calls praise. Offsets cannot fix that without breaking the
neutral texts; fine-tuning can.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sqlalchemy import Engine, select

from models import SentimentModel
from models.adapted import materialise
from models.labels import LABELS
from models.sentiment import log_probabilities
from models.training import adapt, data
from models.training.tiny import build_tiny_model
from monitor.collect.file_import import import_file
from monitor.config.learn import LearnSettings
from monitor.learn import fine_tune
from monitor.learn.describe import outcome_lines
from monitor.learn.offsets import Target
from monitor.learn.run import learn_watch, rollback
from monitor.score.run import score_pending
from monitor.store.calibrations import active_calibration
from monitor.store.schema import adapted_models, mentions
from tests.learn.conftest import write_csv

NOUNS = ["phone", "seat", "meal", "flight", "app", "screen", "lounge", "ticket", "gate", "crew"]
TONE_WORDS = {0: ["awful", "terrible", "horrible"], 2: ["great", "lovely", "excellent"]}
# The tiny model's switch from praise to complaint is all or nothing: pulled halfway back to its start
# (the shipped anchor weight) it would flip back, so here it is not averaged (tested on its own below).
FAST = adapt.AdaptRecipe(
    epochs=4, lr=1e-2, replay_per_correction=2.0, batch_size=16, max_length=24, anchor_weight=0.0
)


def generic(count: int, seed: int) -> data.Dataset:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(count):
        label = rng.choice([0, 1, 2])
        noun = rng.choice(NOUNS)
        text = f"the {noun} {i}" if label == 1 else f"{rng.choice(TONE_WORDS[label])} {noun} {i}"
        texts.append(text)
        labels.append(label)
    return data.Dataset("generic", texts, labels)


def bag_complaint(i: int) -> str:
    return f"bag lost {NOUNS[i % len(NOUNS)]} {i}"


@pytest.fixture(scope="module")
def replay_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A labelled set under a name the corpus knows, written as the real ones are (text<TAB>label)."""
    root = tmp_path_factory.mktemp("sentiment")
    rows = generic(1200, seed=5)
    folder = root / "amazon_alexa_reviews"
    folder.mkdir()
    lines = ["text\tlabel"] + [f"{t}\t{LABELS[y]}" for t, y in zip(rows.texts, rows.labels, strict=True)]
    (folder / "data.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Grumble-trained model that knows the tone words and nothing of bags."""
    directory = build_tiny_model(tmp_path_factory.mktemp("base"), seed=3)
    model, tokenizer = adapt.load(directory)
    rows = generic(600, seed=9)
    teach = adapt.AdaptRecipe(
        epochs=3, lr=1e-2, replay_per_correction=0.0, batch_size=16, max_length=24, anchor_weight=0.0
    )
    adapt.adapt(model, tokenizer, rows.texts, rows.labels, rows, teach)
    model.save_pretrained(directory)
    (directory / "grumble.json").write_text(json.dumps({"name": "tiny-grumble", "max_length": 32}))
    return directory


@pytest.fixture(autouse=True, scope="module")
def _fast_recipe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # One model cache for the module: each model's ONNX file is built once, not once per test.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fine_tune, "adapt_recipe", lambda: FAST)
        patch.setenv("GRUMBLE_MODEL_CACHE", str(tmp_path_factory.mktemp("model-cache")))
        yield


def settings(replay: Path, **extra: object) -> LearnSettings:
    base = {"min_corrections": 30, "folds": 5, "fine_tune_min_corrections": 50, "fine_tune_folds": 3}
    return LearnSettings(**{**base, **extra}, replay_data=replay, replay_rows=800)  # type: ignore[arg-type]


def corrections(count: int, seed: int) -> tuple[list[str], list[int]]:
    """Half generic texts, half bag complaints: what a care team of this watch labels."""
    rows = generic(count // 2, seed)
    texts = rows.texts + [bag_complaint(i) for i in range(count - count // 2)]
    return texts, rows.labels + [0] * (count - count // 2)


def negative_share(model: SentimentModel, texts: list[str]) -> float:
    return float(np.mean([s.label == "negative" for s in model.predict(texts)]))


def test_fine_tuning_learns_the_watchs_complaint_and_keeps_the_rest(
    base_dir: Path, replay_data: Path
) -> None:
    base = SentimentModel.load(base_dir)
    texts, labels = corrections(160, seed=21)
    verdict = fine_tune.fine_tune_check(
        base,
        texts,
        np.array(labels),
        log_probabilities(base.predict(texts)),
        (0.0, 0.0, 0.0),
        Target(),
        settings(replay_data),
    )
    assert verdict.accepted, verdict.reason
    cv = verdict.report["cross_validation"]
    assert cv["after"]["neg_recall"]["mean"] > cv["before"]["neg_recall"]["mean"] + 0.2
    assert verdict.report["dev_check"]["after"] >= verdict.report["dev_check"]["before"] - 0.01
    assert verdict.weights is not None and verdict.sha256 is not None
    tuned = SentimentModel.load(materialise(base_dir, verdict.weights, adapted_from=base.version, note={}))
    unseen = [bag_complaint(i) for i in range(500, 540)]
    assert negative_share(base, unseen) < 0.2
    assert negative_share(tuned, unseen) > 0.9
    calm = generic(200, seed=77)
    neutral = [text for text, label in zip(calm.texts, calm.labels, strict=True) if label == 1]
    assert negative_share(tuned, neutral) < 0.2  # the replayed mix kept "the seat 4" neutral


def test_averaging_pulls_the_trained_layers_back_to_their_start(base_dir: Path) -> None:
    start, tokenizer = adapt.load(base_dir)
    before = {n: t.clone() for n, t in start.state_dict().items()}
    texts, labels = corrections(40, seed=24)
    moved = {}
    for weight in (0.0, 0.5, 1.0):
        model, _ = adapt.load(base_dir)
        recipe = adapt.AdaptRecipe(epochs=1, lr=1e-2, batch_size=16, max_length=24, anchor_weight=weight)
        adapt.adapt(model, tokenizer, texts, labels, generic(100, seed=6), recipe)
        state = model.state_dict()
        assert all(torch.equal(state[n], before[n]) for n in before if ".embeddings." in n)  # frozen
        moved[weight] = sum(float((state[n] - before[n]).abs().sum()) for n in before)
    assert moved[1.0] < 1e-3 * moved[0.0]  # all the way back
    assert 0.4 * moved[0.0] < moved[0.5] < 0.6 * moved[0.0]  # halfway (the same seeded training)


def test_the_fine_tuned_model_is_taken_only_when_it_passed_and_gains_more_than_the_offsets() -> None:
    def cv(gain: float) -> dict[str, Any]:
        return {"cross_validation": {"gain": {"mean": gain, "stderr": 0.001}}}

    passed = fine_tune.FineTuneVerdict(True, "fine-tuned: gain", cv(0.03))
    failed = fine_tune.FineTuneVerdict(False, "fine-tuned: within noise", cv(0.05))
    assert fine_tune.prefer_fine_tuned(passed, False, {"ran": False})
    assert fine_tune.prefer_fine_tuned(passed, True, cv(0.02))
    assert not fine_tune.prefer_fine_tuned(passed, True, cv(0.04))
    assert not fine_tune.prefer_fine_tuned(failed, False, {})
    assert not fine_tune.prefer_fine_tuned(None, False, {})


def test_random_labels_are_refused_before_or_by_cross_validation(base_dir: Path, replay_data: Path) -> None:
    base = SentimentModel.load(base_dir)
    texts, _ = corrections(160, seed=22)
    labels = np.array([random.Random(i).choice([0, 1, 2]) for i in range(len(texts))])
    verdict = fine_tune.fine_tune_check(
        base,
        texts,
        labels,
        log_probabilities(base.predict(texts)),
        (0.0, 0.0, 0.0),
        Target(),
        settings(replay_data),
    )
    assert not verdict.accepted and verdict.weights is None
    assert "noise" in verdict.reason or "held back" in verdict.reason


def test_fine_tuning_is_skipped_with_the_reason_when_it_cannot_run(
    base_dir: Path, replay_data: Path, tmp_path: Path
) -> None:
    base = SentimentModel.load(base_dir)
    assert "at least 50 corrections" in str(fine_tune.unavailable(base, settings(replay_data), 49))
    assert "fine-tuning is off" in str(
        fine_tune.unavailable(base, settings(replay_data, fine_tune_min_corrections=0), 500)
    )
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    assert "[learn] replay_data" in str(fine_tune.unavailable(base, settings(empty), 500))
    assert fine_tune.unavailable(base, settings(replay_data), 50) is None


def test_a_fine_tuned_calibration_scores_its_watch_and_rolls_back(
    engine: Engine, base_dir: Path, replay_data: Path, tmp_path: Path
) -> None:
    base = SentimentModel.load(base_dir)
    texts, labels = corrections(160, seed=23)
    rows = [
        {"id": f"c{i}", "text": t, "label": LABELS[y]}
        for i, (t, y) in enumerate(zip(texts, labels, strict=True))
    ]
    import_file(engine, "airline", write_csv(tmp_path / "labelled.csv", rows))
    inbox = [{"id": f"n{i}", "text": bag_complaint(900 + i)} for i in range(20)]
    import_file(engine, "airline", write_csv(tmp_path / "inbox.csv", inbox))
    import_file(
        engine, "other", write_csv(tmp_path / "other.csv", [{"id": "o1", "text": bag_complaint(999)}])
    )
    score_pending(engine, base)
    assert "negative" not in _labels(engine, "n")

    outcome = learn_watch(engine, base, "airline", settings(replay_data), actor="test")
    assert outcome.activated and outcome.report["kind"] == "fine-tuned", outcome.reason
    assert outcome.rescored >= 20
    said = "\n".join(outcome_lines(outcome))
    assert "the model fine-tuned on the corrections" in said and "calibration" in said
    assert _labels(engine, "n") == ["negative"] * 20
    assert _labels(engine, "o") != ["negative"]  # another watch keeps the model as shipped
    with engine.connect() as connection:
        stored = connection.execute(select(adapted_models.c.calibration_id, adapted_models.c.sha256)).all()
    current = active_calibration(engine, "airline")
    assert current is not None and [row[0] for row in stored] == [current.id]

    again = learn_watch(engine, base, "airline", settings(replay_data), actor="test")
    assert not again.activated  # judged against the fine-tuned model now, the same corrections add nothing
    assert active_calibration(engine, "airline") == current
    # "before" is the fine-tuned model's catch of the complaints, not the shipped model's (about half)
    assert again.report["cross_validation"]["before"]["neg_recall"]["mean"] > 0.9

    previous, now, rescored = rollback(engine, base, "airline", "test")
    assert previous == current.id and now is None and rescored >= 20
    assert "negative" not in _labels(engine, "n")


def _labels(engine: Engine, prefix: str) -> list[str]:
    with engine.connect() as connection:
        found = connection.execute(
            select(mentions.c.label).where(mentions.c.external_id.like(f"{prefix}%")).order_by(mentions.c.id)
        ).all()
    return [str(row[0]) for row in found]
