"""Tokenisation with head-and-tail truncation and length-grouped batching, for every backend."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# Complaints often put the verdict at the end ("... never again"), so a long text keeps
# the first two thirds of the budget from its start and the last third from its end.
HEAD_FRACTION = 2 / 3


@dataclass(frozen=True)
class Batch:
    indices: list[int]  # positions in the caller's list
    input_ids: npt.NDArray[np.int64]
    attention_mask: npt.NDArray[np.int64]


def truncate_ids(ids: list[int], budget: int) -> list[int]:
    if len(ids) <= budget:
        return ids
    head = max(1, round(budget * HEAD_FRACTION))
    tail = budget - head
    return ids[:head] + (ids[-tail:] if tail > 0 else [])


class Encoder:
    """Wraps a Hugging Face tokenizer; the output feeds torch and ONNX alike."""

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.prefix, self.suffix = special_tokens(tokenizer)
        self.budget = max_length - len(self.prefix) - len(self.suffix)
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad) if pad is not None else 0

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        if not texts:
            return []
        # No truncation here: the tokenizer can only cut one end.
        raw = self.tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)[
            "input_ids"
        ]
        return [self.prefix + truncate_ids(list(ids), self.budget) + self.suffix for ids in raw]

    def batches(self, encoded: Sequence[list[int]], batch_size: int) -> Iterator[Batch]:
        # Sorting by length keeps padding (wasted compute) small; callers restore order by indices.
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(encoded[i]) for i in idx)
            ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                seq = encoded[i]
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1
            yield Batch(idx, ids, mask)


def special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """Ids the tokenizer puts before and after one sequence ([CLS]/[SEP], <s>/</s>, ...)."""
    # Found by diffing one encoding with and without specials, which works for any template.
    with_specials = list(tokenizer("a", add_special_tokens=True)["input_ids"])
    bare = list(tokenizer("a", add_special_tokens=False)["input_ids"])
    for start in range(len(with_specials) - len(bare) + 1):
        if with_specials[start : start + len(bare)] == bare:
            return with_specials[:start], with_specials[start + len(bare) :]
    raise ValueError("cannot locate the special tokens this tokenizer adds")


def softmax(logits: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float32]:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    probs: npt.NDArray[np.float32] = (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)
    return probs
