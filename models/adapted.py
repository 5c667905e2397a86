"""A model adapted to one watch by fine-tuning on its corrections (models/training/adapt.py): what is
stored of it, and the model directory made again from that and the model it was adapted from.

Fine-tuning leaves the embeddings as they were (they are frozen: a few hundred corrections cannot teach
30,000 word vectors anything but noise), so only the rest is stored: the transformer layers, the pooler
and the classifier, fp16, about a third of the model. The stored part is safetensors bytes, kept in the
database beside the watch's calibration so that every worker of a deployment finds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from models.bundle import GRUMBLE_CONFIG, ModelError, cache_root, read_grumble_config

FROZEN = ".embeddings."  # in every parameter name of the frozen part (bert.embeddings.word_embeddings...)
_MODEL_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)


def is_frozen(name: str) -> bool:
    return FROZEN in f".{name}"


def trained_part(state: dict[str, Any]) -> bytes:
    """The tensors fine-tuning changed, fp16, as safetensors bytes."""
    from safetensors.torch import save

    return save({n: t.detach().half().contiguous() for n, t in state.items() if not is_frozen(n)})


def digest(weights: bytes) -> str:
    return hashlib.sha256(weights).hexdigest()


def materialise(base_dir: Path, weights: bytes, *, adapted_from: str, note: dict[str, Any]) -> Path:
    """A complete model directory (in the model cache, keyed by the stored part's hash): the base
    model's files with the stored tensors in place of its own. Made once; later calls return it."""
    from safetensors.torch import load, load_file, save_file

    target = cache_root() / "adapted" / digest(weights)[:16]
    if (target / "model.safetensors").is_file():
        return target
    base = read_grumble_config(base_dir)
    if base is None:
        raise ModelError(f"{base_dir} is not a Grumble-trained model; only those can be adapted")
    state = load_file(str(base_dir / "model.safetensors"))
    stored = load(weights)
    unknown = sorted(set(stored) - set(state))
    if unknown:
        raise ModelError(f"the adapted weights do not fit {base_dir}: no tensor {unknown[0]!r} there")
    for name, tensor in stored.items():
        if tensor.shape != state[name].shape:
            raise ModelError(f"the adapted weights do not fit {base_dir}: {name} is {tuple(tensor.shape)}")
        state[name] = tensor.to(state[name].dtype)
    # Another worker may be making the same directory: each builds its own, the first rename wins.
    building = target.with_name(f"{target.name}.partial-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for name in _MODEL_FILES:
        if (base_dir / name).is_file():
            shutil.copyfile(base_dir / name, building / name)
    save_file(state, str(building / "model.safetensors"))
    card = {
        **base,
        "name": f"{base.get('name', 'grumble-model')}-adapted",
        "adapted": {"from": adapted_from, **note},
    }
    (building / GRUMBLE_CONFIG).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    try:
        building.rename(target)
    except OSError:
        shutil.rmtree(building, ignore_errors=True)
        if not (target / "model.safetensors").is_file():
            raise
    return target
