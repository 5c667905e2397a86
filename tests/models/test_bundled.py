"""The shipped model itself: files, size, both backends, and obvious cases it must get right."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models import DEFAULT_MODEL_DIR, LABELS, SentimentModel
from models.bundle import onnx_path
from models.export import build_onnx

REQUIRED = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "grumble.json"}
CASES = [
    ("This is the worst customer service I have ever had. Never again.", "negative"),
    ("@AcmeAir lost my bag AGAIN and nobody answers the phone 😡", "negative"),
    ("The product broke after two days, total waste of money", "negative"),
    ("I absolutely love this phone, best purchase of the year!", "positive"),
    ("Thank you so much for the quick help, you made my day 😊", "positive"),
    ("Charged twice for the same order.", "negative"),
    ("Still waiting for my refund.", "negative"),
    ("My bag never arrived.", "negative"),
    ("The store opens at 9am on Monday.", "neutral"),
    ("Apple will announce the new iPhone on September 12th", "neutral"),
]


@pytest.fixture(scope="module")
def onnx_model() -> SentimentModel:
    if not onnx_path(DEFAULT_MODEL_DIR).is_file():
        build_onnx(DEFAULT_MODEL_DIR)  # first run on a fresh checkout: ~20 s, then cached
    return SentimentModel.load()


@pytest.fixture(scope="module")
def torch_model() -> SentimentModel:
    return SentimentModel.load(DEFAULT_MODEL_DIR, backend="torch")


def test_bundle_files_and_size() -> None:
    names = {p.name for p in DEFAULT_MODEL_DIR.iterdir()}
    assert names >= REQUIRED
    assert (DEFAULT_MODEL_DIR / "MODEL_CARD.md").is_file()
    assert not any(n.endswith((".bin", ".onnx", ".pt")) for n in names), "stale or duplicate weights"
    total = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.iterdir() if p.is_file())
    assert total < 60 * 1024 * 1024
    config = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(3)] == list(LABELS)


def test_default_is_onnx_with_hashed_version(onnx_model: SentimentModel) -> None:
    assert onnx_model.backend_name == "onnx"
    assert onnx_model.version.startswith("grumble-minilm-3c-")
    assert len(onnx_model.version.rsplit("-", 1)[1]) == 8


@pytest.mark.parametrize("which", ["onnx", "torch"])
def test_obvious_cases(which: str, onnx_model: SentimentModel, torch_model: SentimentModel) -> None:
    model = onnx_model if which == "onnx" else torch_model
    scores = model.predict([text for text, _ in CASES])
    assert [s.label for s in scores] == [label for _, label in CASES]


def test_backends_agree(onnx_model: SentimentModel, torch_model: SentimentModel) -> None:
    from models.training.data import tweeteval

    texts = tweeteval("val").texts[:200]
    a = np.array([list(s.probabilities().values()) for s in onnx_model.predict(texts)])
    b = np.array([list(s.probabilities().values()) for s in torch_model.predict(texts)])
    assert np.mean(a.argmax(1) == b.argmax(1)) >= 0.95
    assert np.abs(a - b).mean() < 0.03


def test_long_complaint_keeps_the_verdict_at_the_end(onnx_model: SentimentModel) -> None:
    story = "I ordered a sofa in March and the delivery was scheduled for a Tuesday morning. " * 30
    (score,) = onnx_model.predict([story + "Honestly the worst company I have ever dealt with, avoid."])
    assert score.label == "negative"


@pytest.mark.parametrize("which", ["onnx", "torch"])
def test_a_score_does_not_depend_on_its_neighbours(
    which: str, onnx_model: SentimentModel, torch_model: SentimentModel
) -> None:
    from models.training.data import tweeteval

    model = onnx_model if which == "onnx" else torch_model
    texts = [*tweeteval("val").texts[:150], *(text for text, _ in CASES), "ok", "x " * 300]
    together = model.predict(texts)
    alone = [model.predict([text])[0] for text in texts]
    order = np.random.default_rng(7).permutation(len(texts))
    shuffled = model.predict([texts[i] for i in order])
    for position, i in enumerate(order):
        for other in (alone[i], shuffled[position]):
            assert other.label == together[i].label, texts[i]
            for name, value in other.probabilities().items():
                assert abs(value - together[i].probabilities()[name]) <= 0.005, texts[i]


def test_the_demo_complaints_in_other_languages_reach_the_inbox(onnx_model: SentimentModel) -> None:
    from monitor.score.cues import leaning
    from monitor.verdict import decide

    cases = [
        ("¡Pésimo servicio! Acme me cobró dos veces y nadie responde.", "es", "negative"),
        ("Acme est inutilisable depuis la mise à jour, je perds mes notes.", "fr", "negative"),
        ("Acme ist wirklich super, endlich eine App die funktioniert.", "de", "positive"),
    ]
    scores = onnx_model.predict([text for text, _, _ in cases])
    for (text, language, label), score in zip(cases, scores, strict=True):
        assert score.language == language
        verdict = decide(
            score.label, score.negative, None, score.language, onnx_model.languages, leaning(text, language)
        )
        assert (verdict.label, verdict.uncertain) == (label, True), text
