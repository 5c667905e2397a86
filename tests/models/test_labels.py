from __future__ import annotations

import numpy as np
import pytest

from models.labels import LABELS, LabelMappingError, label_matrix


def _targets(id2label: dict[int, str]) -> list[str]:
    matrix = label_matrix(id2label)
    assert matrix.shape == (len(id2label), 3)
    assert np.all(matrix.sum(axis=1) == 1)
    return [LABELS[int(row.argmax())] for row in matrix]


@pytest.mark.parametrize(
    ("id2label", "expected"),
    [
        ({0: "negative", 1: "neutral", 2: "positive"}, ["negative", "neutral", "positive"]),
        ({0: "positive", 1: "negative", 2: "neutral"}, ["positive", "negative", "neutral"]),
        ({0: "NEG", 1: "NEU", 2: "POS"}, ["negative", "neutral", "positive"]),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, ["negative", "neutral", "positive"]),
        ({0: "LABEL_0", 1: "LABEL_1"}, ["negative", "positive"]),
        ({0: "NEGATIVE", 1: "POSITIVE"}, ["negative", "positive"]),
        (
            {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"},
            ["negative", "negative", "neutral", "positive", "positive"],
        ),
        (
            {0: "very negative", 1: "negative", 2: "neutral", 3: "positive", 4: "very positive"},
            ["negative", "negative", "neutral", "positive", "positive"],
        ),
        ({"0": "negative", "1": "positive"}, ["negative", "positive"]),
    ],
)
def test_known_label_schemes_map_to_ours(id2label: dict[int, str], expected: list[str]) -> None:
    assert _targets(id2label) == expected


def test_binary_model_gives_zero_neutral() -> None:
    matrix = label_matrix({0: "NEGATIVE", 1: "POSITIVE"})
    ours = np.array([[0.3, 0.7]], dtype=np.float32) @ matrix
    assert ours[0].tolist() == pytest.approx([0.3, 0.0, 0.7])


def test_star_probabilities_are_summed() -> None:
    matrix = label_matrix({i: f"{i + 1} stars" for i in range(5)})
    ours = np.array([[0.1, 0.2, 0.3, 0.25, 0.15]], dtype=np.float32) @ matrix
    assert ours[0].tolist() == pytest.approx([0.3, 0.3, 0.4])


@pytest.mark.parametrize(
    "id2label",
    [
        {0: "joy", 1: "anger"},
        {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2", 3: "LABEL_3"},
        {0: "negative"},
        {0: "neutral", 1: "positive"},
        {1: "negative", 2: "positive"},
    ],
)
def test_unmappable_labels_raise(id2label: dict[int, str]) -> None:
    with pytest.raises(LabelMappingError):
        label_matrix(id2label)
