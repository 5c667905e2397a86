"""The model directory format: where the bundled model lives, what marks a Grumble-trained one, and
where its int8 ONNX file is cached.

A Grumble model directory is a Hugging Face one (config.json, fp16 model.safetensors, tokenizer
files) plus grumble.json (name, inference window, languages, training record). Its int8 ONNX file
is derived from the weights and cached outside git, keyed by their hash (models/export.py builds it).
Reading the format needs nothing heavier than the standard library.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "bundled"
# Marks a directory as a Grumble-trained model (enables the ONNX backend and the version hash).
GRUMBLE_CONFIG = "grumble.json"
# Part of the ONNX cache key: a change to how the ONNX file is built must not reuse an old file.
RECIPE = "int8-dyn-pc-v1"


class ModelError(Exception):
    """A model could not be loaded; the message says what to fix."""


def weights_hash(directory: Path) -> str:
    digest = hashlib.sha256()
    for name in ("model.safetensors", "pytorch_model.bin"):
        path = directory / name
        if path.is_file():
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            return digest.hexdigest()
    raise ModelError(f"no weights (model.safetensors) in {directory}")


def read_grumble_config(directory: Path) -> dict[str, Any] | None:
    path = directory / GRUMBLE_CONFIG
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def cache_root() -> Path:
    env = os.environ.get("GRUMBLE_MODEL_CACHE")
    if env:
        return Path(env)
    local = Path(__file__).resolve().parent / ".cache"
    # Installed read-only (site-packages): fall back to the user's cache.
    if os.access(local.parent, os.W_OK):
        return local
    return Path.home() / ".cache" / "grumble" / "models"


def onnx_path(model_dir: Path) -> Path:
    """Where the int8 ONNX file of the model in model_dir is cached (it may not be built yet)."""
    return cache_root() / f"{weights_hash(model_dir)[:16]}.{RECIPE}.onnx"
