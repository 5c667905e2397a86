"""Write the bundled model directory (fp16 safetensors) and build its int8 ONNX file.

The int8 ONNX file is derived from the committed fp16 weights and cached outside git, keyed
by the weights' hash: the repo then holds one copy of the weights (~45 MB) and both backends
run the same trained model, so fp32-vs-int8 comparisons measure quantisation and nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from models.sentiment import DEFAULT_MODEL_DIR, GRUMBLE_CONFIG, weights_hash

# Files written by save_bundle; anything else that save_pretrained used to write is removed so
# a retrained model replaces its files rather than piling up new ones.
KEEP = {"MODEL_CARD.md", "README.md"}
OPSET = 17
# Part of the cache key: a change to how the ONNX file is built must not reuse an old file.
RECIPE = "int8-dyn-pc-v1"


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
    return cache_root() / f"{weights_hash(model_dir)[:16]}.{RECIPE}.onnx"


def save_bundle(model: Any, tokenizer: Any, directory: Path, meta: dict[str, Any]) -> None:
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        if old.is_file() and old.name not in KEEP:
            old.unlink()
    model.to(torch.float16).save_pretrained(directory, safe_serialization=True)
    model.to(torch.float32)
    tokenizer.save_pretrained(directory)
    # save_pretrained records how *we* loaded the tokenizer (offline flags); users should not inherit that.
    tok_config = directory / "tokenizer_config.json"
    settings = json.loads(tok_config.read_text(encoding="utf-8"))
    for key in ("local_files_only", "is_local"):
        settings.pop(key, None)
    tok_config.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    (directory / GRUMBLE_CONFIG).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def export_fp32(model_dir: Path, out_path: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, dtype=torch.float32, attn_implementation="eager", local_files_only=True
    ).eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    with torch.inference_mode():
        torch.onnx.export(
            model,
            (ids, mask),
            str(out_path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "logits": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )


def build_onnx(model_dir: Path, out_path: Path | None = None, *, quantize: bool = True) -> Path:
    """Export and (by default) int8-quantise the model in model_dir. Returns the file.

    No offline transformer fusion: measured here, the fused int8 graph (QAttention, SkipLayerNorm)
    ran at ~500 texts/s against ~580 for the plain int8 graph, which ONNX Runtime optimises at load.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model_dir = Path(model_dir)
    target = out_path or onnx_path(model_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        raw = Path(tmp) / "fp32.onnx"
        export_fp32(model_dir, raw)
        final = Path(tmp) / "final.onnx"
        if quantize:
            # int8 weights, one scale per output channel; activations are quantised per run (so the
            # backend runs one text per run: see backends/onnx.py), and only MatMuls with a constant
            # weight are quantised (not Q·K or attn·V).
            quantize_dynamic(raw, final, weight_type=QuantType.QInt8, per_channel=True)
        else:
            raw.replace(final)
        # Atomic: a concurrent loader sees either no file or a complete one.
        final.replace(target)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the cached int8 ONNX file for a Grumble model")
    parser.add_argument("model_dir", nargs="?", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--fp32", action="store_true", help="skip quantisation (for comparisons)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    print(build_onnx(args.model_dir, args.out, quantize=not args.fp32))


if __name__ == "__main__":
    main()
