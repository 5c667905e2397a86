"""The interface the rest of Grumble uses: SentimentModel.load(...).predict(texts) -> Scores."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.backends import Backend
from models.bundle import DEFAULT_MODEL_DIR, ModelError, read_grumble_config, weights_hash
from models.labels import LABELS, LabelMappingError
from models.language import detect
from models.preprocess import normalise

BACKENDS = ("auto", "onnx", "torch")
# Bounds memory when a caller passes a huge list; large enough that batching stays efficient.
CHUNK = 4096


@dataclass(frozen=True)
class Score:
    label: str
    negative: float
    neutral: float
    positive: float
    language: str | None = None

    def probabilities(self) -> dict[str, float]:
        return {"negative": self.negative, "neutral": self.neutral, "positive": self.positive}


def shifted(score: Score, offsets: Sequence[float]) -> Score:
    """`score` with per-class offsets added to its log-probabilities (a watch's calibration, learned
    from its corrections by monitor/learn/): the probabilities times exp(offset), renormalised, and the
    label their argmax. Applied to a model's Score afterwards, so scoring without offsets is unchanged."""
    weighted = np.array([score.negative, score.neutral, score.positive], dtype=np.float64) * np.exp(
        np.asarray(offsets, dtype=np.float64)
    )
    probs = weighted / weighted.sum()
    label = LABELS[int(probs.argmax())]
    return Score(label, float(probs[0]), float(probs[1]), float(probs[2]), score.language)


def log_probabilities(scores: Sequence[Score]) -> npt.NDArray[np.float64]:
    """(texts, 3) log-probabilities in LABELS order: what class offsets are fitted on and added to.
    Clipped at 1e-7 so that a probability rounded to zero stays a finite number."""
    probs = np.array([[s.negative, s.neutral, s.positive] for s in scores], dtype=np.float64).reshape(-1, 3)
    return np.log(np.clip(probs, 1e-7, 1.0))


_EMPTY = (0.0, 1.0, 0.0)


def _looks_like_path(name: str) -> bool:
    # Hub ids are "name" or "org/name"; anything else that is not on disk is a mistyped path.
    return (
        name.startswith((".", "/", "~"))
        or "\\" in name
        or name.count("/") > 1
        or name.endswith("/")
        or os.path.splitdrive(name)[0] != ""
    )


# What a model reads when its directory does not say (the MiniLM base was trained on English).
DEFAULT_LANGUAGES = frozenset({"en"})


class SentimentModel:
    def __init__(
        self,
        backend: Backend,
        version: str,
        languages: frozenset[str] = DEFAULT_LANGUAGES,
        directory: Path | None = None,
    ) -> None:
        self.backend = backend
        self.version = version
        # Where a local model was loaded from: a watch's fine-tuned model is made from it (models/adapted.py).
        self.directory = directory
        # Languages the model was trained to read; a text in another is scored but marked uncertain.
        self.languages = languages

    @property
    def backend_name(self) -> str:
        return self.backend.name

    @classmethod
    def load(
        cls, name_or_path: str | os.PathLike[str] | None = None, *, backend: str = "auto"
    ) -> SentimentModel:
        """Load the bundled model (default), a local model directory or a Hugging Face model id.

        backend: "auto" (ONNX int8 for Grumble-trained models, torch otherwise), "onnx" or "torch".
        """
        if backend not in BACKENDS:
            raise ModelError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if name_or_path is None:
            directory = DEFAULT_MODEL_DIR
            if not (directory / "model.safetensors").is_file():
                raise ModelError(
                    f"the bundled model is missing from {directory}; "
                    "restore it from git or retrain it with `python -m models.training.train`"
                )
            return cls._load_local(directory, backend)
        if isinstance(name_or_path, os.PathLike):
            return cls._load_local(Path(name_or_path), backend)
        name = str(name_or_path).strip()
        if not name:
            raise ModelError(
                "empty model name; pass a directory, a Hugging Face id, or None for the bundled one"
            )
        expanded = Path(name).expanduser()
        if expanded.exists() or _looks_like_path(name):
            return cls._load_local(expanded, backend)
        return cls._load_hub(name, backend)

    @classmethod
    def _load_local(cls, directory: Path, backend: str) -> SentimentModel:
        if not directory.exists():
            raise ModelError(
                f"model path {directory} does not exist; check the path or omit it for the bundled model"
            )
        if not directory.is_dir():
            raise ModelError(f"model path {directory} is a file; pass the directory holding config.json")
        if not (directory / "config.json").is_file():
            raise ModelError(
                f"{directory} holds no config.json; it is not a Hugging Face model directory "
                "(save one with model.save_pretrained(dir) and tokenizer.save_pretrained(dir))"
            )
        grumble = read_grumble_config(directory)
        max_length = int(grumble["max_length"]) if grumble else None
        if grumble:
            version = f"{grumble.get('name', 'grumble-model')}-{weights_hash(directory)[:8]}"
        else:
            version = directory.resolve().name
        chosen = backend
        if backend == "auto":
            chosen = "onnx" if grumble else "torch"
        try:
            if chosen == "onnx":
                from models.backends.onnx import OnnxBackend

                impl: Backend = OnnxBackend.from_model_dir(directory, max_length=max_length)
            else:
                from models.backends.torch import TorchBackend

                impl = TorchBackend.from_pretrained(
                    str(directory), max_length=max_length, local_files_only=True
                )
        except LabelMappingError as exc:
            raise ModelError(f"{directory}: {exc}") from exc
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"could not load the model in {directory}: {exc}") from exc
        languages = frozenset(grumble.get("languages", DEFAULT_LANGUAGES)) if grumble else DEFAULT_LANGUAGES
        return cls(impl, version, languages, directory)

    @classmethod
    def _load_hub(cls, model_id: str, backend: str) -> SentimentModel:
        if backend == "onnx":
            raise ModelError(
                f"the onnx backend needs a local model directory; use backend='torch' for {model_id!r}"
            )
        from models.backends.torch import TorchBackend

        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
        try:
            impl = TorchBackend.from_pretrained(model_id, local_files_only=offline)
        except LabelMappingError as exc:
            raise ModelError(f"{model_id}: {exc}") from exc
        except (OSError, ValueError) as exc:
            hint = (
                "HF_HUB_OFFLINE is set, so only models already in the Hugging Face cache can load; "
                "download it once with internet or pass a local directory"
                if offline
                else "check the model id (e.g. cardiffnlp/twitter-roberta-base-sentiment-latest) "
                "and your connection"
            )
            raise ModelError(f"could not load Hugging Face model {model_id!r}: {hint} ({exc})") from exc
        return cls(impl, model_id)

    def predict(self, texts: Sequence[str]) -> list[Score]:
        """One Score per text, in order. Odd input (empty, huge, non-English, bad unicode) never raises."""
        if isinstance(texts, str):
            raise TypeError("predict takes a sequence of texts; wrap a single text in a list")
        scores: list[Score] = []
        items = list(texts)
        for start in range(0, len(items), CHUNK):
            scores.extend(self._predict_chunk(items[start : start + CHUNK]))
        return scores

    def _predict_chunk(self, texts: list[Any]) -> list[Score]:
        cleaned = [normalise(t) if isinstance(t, str) else "" for t in texts]
        todo = [i for i, text in enumerate(cleaned) if text]
        probs = np.zeros((len(cleaned), 3), dtype=np.float32)
        probs[:] = _EMPTY
        if todo:
            probs[todo] = self.backend.predict_proba([cleaned[i] for i in todo])
        result = []
        for i, text in enumerate(cleaned):
            row = probs[i]
            if text:
                label = LABELS[int(row.argmax())]
                language = detect(normalise(texts[i], spell_pictographs=False))
            else:
                label, language = "neutral", None
            result.append(Score(label, float(row[0]), float(row[1]), float(row[2]), language))
        return result
