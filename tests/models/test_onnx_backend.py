"""The ONNX backend scores each text alone, side by side on several cores; results must not depend
on its neighbours, their order, the number of workers or concurrent callers."""

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
    return build_onnx(tiny_model_dir, tmp_path_factory.mktemp("onnx") / "tiny.onnx", quantize=False)


@pytest.fixture(scope="module")
def int8_file(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_onnx(tiny_model_dir, tmp_path_factory.mktemp("onnx") / "tiny-int8.onnx")


def backend(model_dir: Path, onnx_file: Path, threads: int) -> OnnxBackend:
    return OnnxBackend.from_model_dir(model_dir, onnx_file=onnx_file, threads=threads)


def test_int8_scores_do_not_depend_on_neighbours_or_order(tiny_model_dir: Path, int8_file: Path) -> None:
    # Dynamic int8 quantises activations with one scale per run: run in a batch, a text's scores
    # moved with its neighbours (the defect this guards against).
    impl = backend(tiny_model_dir, int8_file, threads=2)
    together = impl.predict_proba(TEXTS)
    alone = np.vstack([impl.predict_proba([t]) for t in TEXTS])
    shuffled_order = np.random.default_rng(3).permutation(len(TEXTS))
    shuffled = impl.predict_proba([TEXTS[i] for i in shuffled_order])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    np.testing.assert_allclose(shuffled, together[shuffled_order], atol=1e-6)
    with_others = impl.predict_proba(["x " * 120, *TEXTS[:5], "!!!"])[1:6]
    np.testing.assert_allclose(with_others, together[:5], atol=1e-6)


def test_parallel_batches_equal_serial_in_the_callers_order(tiny_model_dir: Path, fp32_file: Path) -> None:
    serial = backend(tiny_model_dir, fp32_file, threads=1).predict_proba(TEXTS)
    parallel_backend = backend(tiny_model_dir, fp32_file, threads=3)
    assert parallel_backend.runs.workers == 3
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
