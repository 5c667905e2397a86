from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.backends.onnx import FastTokenizer
from models.encoding import Encoder, softmax, truncate_ids


def test_truncate_keeps_start_and_end() -> None:
    ids = list(range(100))
    out = truncate_ids(ids, 30)
    assert len(out) == 30
    assert out[:20] == list(range(20))
    assert out[20:] == list(range(90, 100))


def test_truncate_leaves_short_input() -> None:
    assert truncate_ids([1, 2, 3], 10) == [1, 2, 3]


@pytest.fixture(scope="module")
def encoder(tiny_model_dir: Path) -> Encoder:
    return Encoder(FastTokenizer(tiny_model_dir / "tokenizer.json"), 16)


def test_long_text_keeps_first_and_last_words(encoder: Encoder) -> None:
    text = "first " + "filler " * 200 + "last"
    (ids,) = encoder.encode([text])
    assert len(ids) == 16
    tokenizer = encoder.tokenizer
    first = tokenizer("first", add_special_tokens=False)["input_ids"]
    last = tokenizer("last", add_special_tokens=False)["input_ids"]
    assert ids[0] == encoder.prefix[0] and ids[-1] == encoder.suffix[-1]
    assert ids[1 : 1 + len(first)] == first
    assert ids[-1 - len(last) : -1] == last


def test_fast_tokenizer_matches_transformers(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    texts = ["Hello @user http", "Ünïcödé and 中文 and عربي", "a " * 300]
    fast = Encoder(FastTokenizer(tiny_model_dir / "tokenizer.json"), 64)
    slow = Encoder(AutoTokenizer.from_pretrained(tiny_model_dir), 64)
    assert fast.encode(texts) == slow.encode(texts)


def test_batches_cover_every_text_once_with_padding(encoder: Encoder) -> None:
    texts = ["short", "a much longer text with many words in it", "mid length text", "x"]
    encoded = encoder.encode(texts)
    seen = []
    for batch in encoder.batches(encoded, 3):
        seen.extend(batch.indices)
        for row, i in enumerate(batch.indices):
            assert batch.input_ids[row, : len(encoded[i])].tolist() == encoded[i]
            assert batch.attention_mask[row].sum() == len(encoded[i])
    assert sorted(seen) == [0, 1, 2, 3]


def test_softmax_rows_sum_to_one() -> None:
    probs = softmax(np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]]))
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert probs[0, 0] == pytest.approx(1.0)
