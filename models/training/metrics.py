"""Classification metrics used for model selection, calibration and the evaluation table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.labels import NEG


def confusion(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, n: int = 3) -> npt.NDArray[np.int64]:
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def _safe_div(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def report(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, classes: Sequence[int] = (0, 1, 2)
) -> dict[str, float]:
    """Macro scores average over `classes` only: SST-2 has no neutral gold label, so its macro
    scores average negative and positive (a neutral prediction still counts as wrong)."""
    matrix = confusion(y_true, y_pred).astype(np.float64)
    tp = np.diag(matrix)
    recall = _safe_div(tp, matrix.sum(axis=1))
    precision = _safe_div(tp, matrix.sum(axis=0))
    f1 = _safe_div(2 * precision * recall, precision + recall)
    idx = list(classes)
    return {
        "macro_recall": float(recall[idx].mean()),
        "macro_f1": float(f1[idx].mean()),
        "accuracy": float(tp.sum() / max(1.0, matrix.sum())),
        "neg_recall": float(recall[NEG]),
        "neg_precision": float(precision[NEG]),
    }
