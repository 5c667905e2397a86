"""`python -m models.training.topic_student` end to end on a few texts: a 4-layer student distilled from
the base encoder, written as its layers alone, and served by the topics encoder (int8 ONNX) from them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from models.embedding import STUDENT_CONFIG, OnnxEmbedder, load_student
from models.training.topic_student import main

REASONS = ("a refund", "my login", "the courier", "the price", "your support", "the update")


def write_tweets(root: Path) -> Path:
    folder = root / "tweeteval_sentiment"
    folder.mkdir(parents=True)
    verbs = ("still waiting on", "so tired of", "thanks for")
    texts = [f"@acme {verb} {reason} again" for verb in verbs for reason in REASONS]
    labels = [str(i % 3) for i in range(len(texts))]
    for split, part in (("train", texts), ("val", ["a dev text unlike the others"])):
        (folder / f"{split}_text.txt").write_text("\n".join(part) + "\n")
        (folder / f"{split}_labels.txt").write_text("\n".join(labels[: len(part)]) + "\n")
    return root


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("student")
    return main(
        ["--data-dir", str(write_tweets(root / "data")), "--out", str(root / "student"),
         "--sets", "tweeteval_sentiment", "--texts", "16", "--epochs", "2", "--batch-size", "8",
         "--seed", "1"]
    )  # fmt: skip


def test_a_student_is_trained_saved_as_its_layers_and_serves_topics(
    student: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = student
    card = json.loads((out / STUDENT_CONFIG).read_text())
    assert card["name"] == "grumble-topics-minilm-4l"
    assert (card["keep_layers"], card["texts"], card["steps"]) == ([0, 2, 4, 5], 16, 4)
    with safe_open(str(out / "model.safetensors"), "pt") as stored:
        keys = set(stored.keys())
        assert {str(stored.get_tensor(k).dtype) for k in keys} == {"torch.float16"}
    # The layers alone: the embeddings come from the base package, so they are not stored again.
    assert keys and all(k.startswith("encoder.layer.") for k in keys)
    assert {int(k.split(".")[2]) for k in keys} == {0, 1, 2, 3}

    monkeypatch.setenv("GRUMBLE_MODEL_CACHE", str(tmp_path / "cache"))
    embedder = OnnxEmbedder.load(out, threads=1)
    assert embedder.version.startswith("grumble-topics-minilm-4l:")
    vectors = embedder.embed(["@acme still waiting on a refund", "the courier lost it"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert list((tmp_path / "cache").glob("*.embed-int8-dyn-pc-v3.onnx"))


def test_a_student_whose_card_names_other_layers_is_refused(student: Path, tmp_path: Path) -> None:
    out = Path(shutil.copytree(student, tmp_path / "copy"))
    card = json.loads((out / STUDENT_CONFIG).read_text())
    (out / STUDENT_CONFIG).write_text(json.dumps({**card, "keep_layers": [0, 1, 2, 3, 4, 5]}))
    with pytest.raises(ValueError, match="do not match the card"):
        load_student(out)
