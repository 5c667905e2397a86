"""Build the int8 ONNX file of a model directory: `python -m models.export [DIR]` (default: bundled).

The int8 ONNX file is derived from the committed fp16 weights and cached outside git, keyed by the
weights' hash (models/bundle.py: onnx_path): the repo then holds one copy of the weights (~45 MB) and
both backends run the same trained model, so fp32-vs-int8 comparisons measure quantisation and nothing
else. `make install` runs this once; otherwise the ONNX backend runs it on first load.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from models.bundle import DEFAULT_MODEL_DIR, onnx_path

OPSET = 17


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
