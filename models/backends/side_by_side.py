"""Runs one text at a time, side by side: the int8 graphs quantise activations per run, so a text run
alone gets the same numbers in any batch (backends/onnx.py says why). The runs share one ONNX session
(`InferenceSession.run` is thread-safe and releases the GIL), one core each; each worker takes every
n-th text by length, so the shares are even."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt


class SideBySide:
    def __init__(self, workers: int, name: str) -> None:
        self.workers = max(1, workers)
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def rows(
        self,
        encoded: Sequence[list[int]],
        width: int,
        run_one: Callable[[list[int]], npt.NDArray[np.float32]],
    ) -> npt.NDArray[np.float32]:
        """`run_one` of each encoded text, as the rows of one (len(encoded), width) array, in order."""
        out = np.zeros((len(encoded), width), dtype=np.float32)
        by_length = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        shares = [by_length[w :: self.workers] for w in range(self.workers) if by_length[w :: self.workers]]

        def run(share: list[int]) -> None:
            for i in share:  # each worker writes its own rows of `out`
                out[i] = run_one(encoded[i])

        if len(shares) > 1:
            list(self._executor().map(run, shares))
        else:
            for share in shares:
                run(share)
        return out

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=self.name)
            return self._pool
