from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from models import LABELS, ModelError, Score, SentimentModel
from models.training.tiny import build_tiny_model

ODD_TEXTS = [
    "",
    "   \n\t  ",
    "x" * 1_000_000,
    "word " * 200_000,
    "bad \ud800 surrogate",
    "\x00\x01 control chars \x7f",
    "😀😡👍🏽👨‍👩‍👧",
    "هذه الخدمة سيئة جدا",
    "השירות הזה גרוע מאוד",
    "&lt;b&gt;bold&lt;/b&gt; &amp; &#x1F600; &bogus;",
    "@a @b @c http://x.y https://z.w",
    "中文评论：质量很差",
    "\u202eright-to-left override",
]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path) -> SentimentModel:
    return SentimentModel.load(tiny_model_dir)


def test_load_local_dir_by_str_and_path(tiny_model_dir: Path) -> None:
    by_path = SentimentModel.load(tiny_model_dir)
    by_str = SentimentModel.load(str(tiny_model_dir))
    assert by_path.backend_name == by_str.backend_name == "torch"
    assert by_path.version == tiny_model_dir.name
    text = ["the same text twice"]
    assert by_path.predict(text) == by_str.predict(text)


def test_scores_are_probabilities_in_order(tiny: SentimentModel) -> None:
    texts = [f"text number {i} " + "word " * (i % 7) for i in range(50)]
    scores = tiny.predict(texts)
    assert len(scores) == len(texts)
    for score in scores:
        probs = score.probabilities()
        assert list(probs) == list(LABELS)
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
        assert score.label == max(probs, key=lambda k: probs[k])
    # Length-sorted batching must not reorder results.
    singles = [tiny.predict([t])[0] for t in texts[:10]]
    for one, batched in zip(singles, scores[:10], strict=True):
        assert one.negative == pytest.approx(batched.negative, abs=1e-5)


def test_odd_texts_never_raise(tiny: SentimentModel) -> None:
    scores = tiny.predict(ODD_TEXTS)
    assert len(scores) == len(ODD_TEXTS)
    assert all(s.label in LABELS for s in scores)


def test_empty_is_neutral_without_calling_the_model(tiny_model_dir: Path) -> None:
    class Counting:
        name = "counting"
        calls: list[int] = []  # noqa: RUF012

        def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
            self.calls.append(len(texts))
            return np.tile(np.array([[0.7, 0.2, 0.1]], dtype=np.float32), (len(texts), 1))

    backend = Counting()
    model = SentimentModel(backend, "stub")
    scores = model.predict(["", "  ", "real text", "\n"])
    assert backend.calls == [1]
    assert scores[0] == Score("neutral", 0.0, 1.0, 0.0, None)
    assert scores[2].label == "negative"
    assert model.predict([]) == []
    assert backend.calls == [1]


def test_language_flag(tiny: SentimentModel) -> None:
    en, de, empty = tiny.predict(
        ["this is the worst service ever", "Das ist wirklich ein schlechter Service", ""]
    )
    assert en.language == "en"
    assert de.language == "de"
    assert empty.language is None


def test_single_string_is_rejected(tiny: SentimentModel) -> None:
    with pytest.raises(TypeError):
        tiny.predict("not a list")  # type: ignore[arg-type]


def test_score_is_frozen() -> None:
    score = Score("neutral", 0.1, 0.8, 0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.label = "negative"  # type: ignore[misc]
    assert score.language is None


@pytest.mark.parametrize(
    ("id2label", "zero_neutral"),
    [
        ({0: "NEGATIVE", 1: "POSITIVE"}, True),
        ({0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}, False),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, False),
    ],
)
def test_other_label_schemes_load(tmp_path: Path, id2label: dict[int, str], zero_neutral: bool) -> None:
    model = SentimentModel.load(build_tiny_model(tmp_path / "m", id2label=id2label))
    (score,) = model.predict(["some text"])
    assert sum(score.probabilities().values()) == pytest.approx(1.0, abs=1e-5)
    assert (score.neutral == 0.0) is zero_neutral


def test_unmappable_labels_raise_model_error(tmp_path: Path) -> None:
    directory = build_tiny_model(tmp_path / "emotions", id2label={0: "joy", 1: "anger", 2: "fear"})
    with pytest.raises(ModelError, match="cannot map labels"):
        SentimentModel.load(directory)


def test_missing_path_error_says_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        SentimentModel.load(tmp_path / "nope")
    with pytest.raises(ModelError, match="does not exist"):
        SentimentModel.load("./no/such/model/dir")


def test_file_and_non_model_dir_errors(tmp_path: Path) -> None:
    file = tmp_path / "weights.bin"
    file.write_bytes(b"x")
    with pytest.raises(ModelError, match="is a file"):
        SentimentModel.load(file)
    with pytest.raises(ModelError, match=r"no config\.json"):
        SentimentModel.load(tmp_path)


def test_unknown_hub_id_offline_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE"):
        SentimentModel.load("grumble-test/definitely-not-a-model")


def test_bad_backend_and_onnx_for_hub_id(tiny_model_dir: Path) -> None:
    with pytest.raises(ModelError, match="unknown backend"):
        SentimentModel.load(tiny_model_dir, backend="tensorflow")
    with pytest.raises(ModelError, match="local model directory"):
        SentimentModel.load("someone/some-model", backend="onnx")
