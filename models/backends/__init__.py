"""Inference backends: each turns cleaned, non-empty texts into probabilities in LABELS order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt


class Backend(Protocol):
    name: str

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def cpu_count() -> int:
    """Cores this process may use (respects taskset/cgroup affinity, unlike os.cpu_count)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
