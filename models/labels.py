"""Map a classifier's own label names onto Grumble's negative / neutral / positive."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")

NEG, NEU, POS = 0, 1, 2

_NAMED: dict[str, int] = {
    "negative": NEG,
    "neg": NEG,
    "neutral": NEU,
    "neu": NEU,
    "positive": POS,
    "pos": POS,
    "very negative": NEG,
    "very positive": POS,
    "mixed": NEU,
}

_STARS = re.compile(r"^([1-5])\s*stars?$")
_GENERIC = re.compile(r"^label ?(\d+)$")


class LabelMappingError(ValueError):
    """The classifier's labels cannot be read as sentiment."""


def _canonical(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name.strip().lower())


def label_matrix(id2label: Mapping[int, str] | Mapping[str, str]) -> npt.NDArray[np.float32]:
    """Return an (n_model_labels, 3) 0/1 matrix M so that ours = theirs @ M.

    Probabilities are summed into our classes rather than re-normalised, so a model
    with no neutral class (binary POSITIVE/NEGATIVE) gives neutral probability 0.
    """
    items = sorted((int(k), str(v)) for k, v in id2label.items())
    n = len(items)
    if n < 2:
        raise LabelMappingError(f"need at least 2 labels, got {n}: {dict(items)}")
    names = [_canonical(v) for _, v in items]
    if [i for i, _ in items] != list(range(n)):
        raise LabelMappingError(f"label ids must be 0..{n - 1}, got {[i for i, _ in items]}")

    target: list[int]
    if all(name in _NAMED for name in names):
        target = [_NAMED[name] for name in names]
    elif all(_STARS.match(name) for name in names):
        # Review-star models (e.g. nlptown): 1-2 stars are complaints, 3 is lukewarm.
        target = []
        for name in names:
            m = _STARS.match(name)
            assert m is not None
            stars = int(m.group(1))
            target.append(NEG if stars <= 2 else NEU if stars == 3 else POS)
    elif all(_GENERIC.match(name) for name in names) and n in (2, 3):
        # Unnamed labels: follow the usual conventions (SST-2 style 0 neg / 1 pos,
        # TweetEval style 0 neg / 1 neu / 2 pos).
        target = [NEG, POS] if n == 2 else [NEG, NEU, POS]
    else:
        raise LabelMappingError(
            f"cannot map labels {[v for _, v in items]} to {list(LABELS)}; "
            "expected names like negative/neutral/positive, NEG/NEU/POS, '1 star'..'5 stars' or LABEL_0..2"
        )
    if NEG not in target or POS not in target:
        raise LabelMappingError(f"labels {[v for _, v in items]} lack a negative or a positive class")
    matrix = np.zeros((n, len(LABELS)), dtype=np.float32)
    for row, col in enumerate(target):
        matrix[row, col] = 1.0
    return matrix
