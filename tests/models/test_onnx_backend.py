"""The ONNX backend runs batches side by side; results must not depend on that, or on callers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from models.backends.onnx import OnnxBackend
from models.export import build_onnx

TEXTS = [("terrible service " * (i % 9)) + f"order {i} " + ("thanks a lot " * (i % 4)) for i in range(90)]


@pytest.fixture(scope="module")
def fp32_file(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # fp32, so a text scored alone and in a batch agree to float precision (dynamic int8
    # quantisation picks its activation scale per batch).
    return build_onnx(tiny_model_dir, tmp_path_factory.mktemp("onnx") / "tiny.onnx", quantize=False)


def backend(model_dir: Path, onnx_file: Path, threads: int) -> OnnxBackend:
    impl = OnnxBackend.from_model_dir(model_dir, onnx_file=onnx_file, threads=threads)
    impl.batch_size = 4  # many batches, so the parallel path is taken
    return impl


def test_parallel_batches_equal_serial_in_the_callers_order(tiny_model_dir: Path, fp32_file: Path) -> None:
    serial = backend(tiny_model_dir, fp32_file, threads=1).predict_proba(TEXTS)
    parallel_backend = backend(tiny_model_dir, fp32_file, threads=3)
    assert parallel_backend.workers == 3
    parallel = parallel_backend.predict_proba(TEXTS)
    np.testing.assert_array_equal(serial, parallel)
    alone = np.vstack([parallel_backend.predict_proba([t]) for t in TEXTS[:12]])
    np.testing.assert_allclose(alone, parallel[:12], atol=1e-5)
    assert np.allclose(parallel.sum(axis=1), 1.0, atol=1e-5)


def test_concurrent_callers_get_their_own_results(tiny_model_dir: Path, fp32_file: Path) -> None:
    impl = backend(tiny_model_dir, fp32_file, threads=2)
    inputs = [TEXTS[i::4] for i in range(4)]
    expected = [impl.predict_proba(part) for part in inputs]
    with ThreadPoolExecutor(4) as callers:
        got = list(callers.map(impl.predict_proba, inputs * 3))
    for i, result in enumerate(got):
        np.testing.assert_array_equal(result, expected[i % 4])


def test_empty_input(tiny_model_dir: Path, fp32_file: Path) -> None:
    assert backend(tiny_model_dir, fp32_file, threads=2).predict_proba([]).shape == (0, 3)
