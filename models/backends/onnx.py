"""ONNX Runtime backend for Grumble-trained models: int8 weights, one text per run.

One text per run, because the int8 graph quantises its activations with one scale per run
(dynamic quantisation): scored inside a batch, a text's probabilities moved with its neighbours
(up to 0.11 apart, 14 label flips in 600 tweets measured here). Alone, a text gets the same
scores in any batch and any order, with no padding to compute. The runs go side by side, one
core each, on one shared session (`InferenceSession.run` is thread-safe and releases the GIL);
each worker takes every n-th text by length, so the shares are even.

Deliberately free of torch/transformers imports so loading stays well under a few seconds;
the tokenizer is the Rust `tokenizers` library reading the same tokenizer.json.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.backends import cpu_count
from models.backends.side_by_side import SideBySide
from models.bundle import onnx_path
from models.encoding import Encoder, softmax
from models.labels import label_matrix

log = logging.getLogger(__name__)


class FastTokenizer:
    """The slice of the transformers tokenizer API that Encoder uses, over tokenizers.Tokenizer."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(path))
        # Truncation and padding are done by Encoder (head + tail, per batch).
        self._tok.no_truncation()
        self._tok.no_padding()
        self.pad_token_id = (
            self._tok.token_to_id("[PAD]") if self._tok.token_to_id("[PAD]") is not None else 0
        )

    def __call__(
        self, texts: str | list[str], *, add_special_tokens: bool = True, **_: Any
    ) -> dict[str, Any]:
        if isinstance(texts, str):
            return {"input_ids": self._tok.encode(texts, add_special_tokens=add_special_tokens).ids}
        encodings = self._tok.encode_batch(texts, add_special_tokens=add_special_tokens)
        return {"input_ids": [e.ids for e in encodings]}


class OnnxBackend:
    name = "onnx"

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        max_length: int,
        id2label: dict[int, str],
        *,
        workers: int = 1,
    ) -> None:
        self.session = session
        self.encoder = Encoder(tokenizer, max_length)
        self.matrix = label_matrix(id2label)
        self.input_names = {i.name for i in session.get_inputs()}
        self.runs = SideBySide(workers, "grumble-onnx")

    @classmethod
    def from_model_dir(
        cls,
        directory: Path,
        *,
        max_length: int | None = None,
        onnx_file: Path | None = None,
        threads: int | None = None,
    ) -> OnnxBackend:
        import onnxruntime as ort

        path = onnx_file or onnx_path(directory)
        if not path.is_file():
            from models.export import build_onnx

            log.warning(
                "building the int8 ONNX model for %s once (about 20 s); cached at %s", directory, path
            )
            build_onnx(directory, path)
        workers = threads or cpu_count()
        options = ort.SessionOptions()
        # Parallel across batches, not within one: see the module docstring.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        id2label = {int(k): str(v) for k, v in config["id2label"].items()}
        window = max_length or int(config.get("max_position_embeddings", 512))
        return cls(
            session,
            FastTokenizer(directory / "tokenizer.json"),
            min(window, 512),
            id2label,
            workers=workers,
        )

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        encoded = self.encoder.encode(texts)
        return self.runs.rows(encoded, 3, self._run_one)

    def _run_one(self, ids: list[int]) -> npt.NDArray[np.float32]:
        input_ids = np.asarray([ids], dtype=np.int64)
        feeds = {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (logits,) = self.session.run(["logits"], feeds)
        probs: npt.NDArray[np.float32] = (softmax(logits) @ self.matrix)[0]
        return probs
