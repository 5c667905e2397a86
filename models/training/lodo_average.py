"""Weight averaging judged by leave-one-domain-out (issue 21, part 1): no training, only scoring.

    python -m models.training.lodo_average --recipe gen2-recipe-from-gen1 --anchor .artifacts/gen1 \
        --weights 0.25,0.5,0.75

A fine-tuned model that drifted from the model it started from can be pulled back along the straight line
between the two: `anchor_weight * anchor + (1 - anchor_weight) * fine_tuned`, tensor by tensor (Wortsman
et al., "Robust fine-tuning of zero-shot models", 2022: the average keeps most of the fine-tuning's gain on
what it was tuned for and loses less on what it was not). Both must share an architecture, which they do
when one was trained from the other (the second generation's recipe starts from the first generation).

For every fold a LODO recipe has run (`<work-dir>/checkpoints/lodo-<recipe>-<domain>/fold/best`, trained
without that domain) and every anchor weight, the averaged model is scored exactly as lodo.py scores a
fold: the held-out domain's dev splits give the held-out score, the other domains' give the in-domain dev
score. Each weight is written as a recipe of its own, `<recipe>-avg<weight>`, so `lodo --report` shows it
beside the others. Weight 1.0 is the anchor alone, run through the same (uncalibrated, fp32) path.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch

from models.training import data
from models.training.dev_splits import dev_only
from models.training.lodo import DOMAINS, ROOT, domain_scores, report

log = logging.getLogger("grumble.lodo")


def averaged_state(
    anchor: dict[str, torch.Tensor], tuned: dict[str, torch.Tensor], weight: float
) -> dict[str, torch.Tensor]:
    """`weight * anchor + (1 - weight) * tuned` for every floating tensor; integer buffers from `tuned`."""
    if anchor.keys() != tuned.keys():
        missing = sorted(anchor.keys() ^ tuned.keys())[:3]
        raise SystemExit(
            f"lodo_average: the two models differ in shape ({missing}...); "
            "average only a model with the one it was trained from"
        )
    out = {}
    for name, value in tuned.items():
        base = anchor[name]
        if base.shape != value.shape:
            raise SystemExit(
                f"lodo_average: {name} is {tuple(base.shape)} in the anchor "
                f"and {tuple(value.shape)} in the fold"
            )
        out[name] = torch.lerp(value, base.to(value.dtype), weight) if value.is_floating_point() else value
    return out


def score_average(
    anchor_dir: Path, tuned_dir: Path, weight: float, dev: dict[str, data.Dataset], max_length: int
) -> dict[str, float]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from models.encoding import Encoder
    from models.training.loop import dev_logits

    def load(directory: Path) -> Any:
        return AutoModelForSequenceClassification.from_pretrained(
            directory, local_files_only=True, dtype=torch.float32
        )

    model = load(tuned_dir)
    model.load_state_dict(averaged_state(load(anchor_dir).state_dict(), model.state_dict(), weight))
    encoder = Encoder(AutoTokenizer.from_pretrained(tuned_dir, local_files_only=True), max_length)
    with torch.inference_mode():
        return domain_scores(dev, dev_logits(model, encoder, dev, "cpu"))


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipe", required=True, help="a LODO recipe whose fold checkpoints exist")
    parser.add_argument("--anchor", type=Path, required=True, help="the model the recipe started from")
    parser.add_argument(
        "--weights", default="0.25,0.5,0.75", help="anchor weights to try (0 = the fold alone)"
    )
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".artifacts")
    parser.add_argument("--data-dir", type=Path, default=data.DATA_DIR)
    parser.add_argument(
        "--max-length", type=int, default=128, help="tokens read at scoring (the shipped 128)"
    )
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    torch.set_num_threads(args.threads)
    weights = [float(w) for w in args.weights.split(",") if w.strip()]
    dev = dev_only(args.data_dir)
    folds = {
        d: args.work_dir / "checkpoints" / f"lodo-{args.recipe}-{d.replace(' ', '-')}" / "fold" / "best"
        for d in DOMAINS
    }
    folds = {d: path for d, path in folds.items() if path.is_dir()}
    if not folds:
        raise SystemExit(
            f"lodo_average: no fold checkpoints of recipe {args.recipe!r} under {args.work_dir}/checkpoints"
        )
    for weight in weights:
        out = args.work_dir / "lodo" / f"{args.recipe}-avg{weight:g}"
        out.mkdir(parents=True, exist_ok=True)
        for held_out, checkpoint in folds.items():
            target = out / f"{held_out}.json"
            if target.is_file():
                continue
            started = time.time()
            scores = score_average(args.anchor, checkpoint, weight, dev, args.max_length)
            inside = {d: round(s, 4) for d, s in scores.items() if d != held_out}
            row = {
                "held_out": held_out,
                "held_out_score": round(scores[held_out], 4),
                "in_domain_dev_score": round(sum(inside.values()) / len(inside), 4),
                "in_domain": inside,
                "recipe": {"averaged": args.recipe, "anchor": str(args.anchor), "anchor_weight": weight},
                "minutes": round((time.time() - started) / 60, 1),
            }
            target.write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
            log.info("anchor weight %g, %s held out: %s", weight, held_out, row["held_out_score"])
    text = report(args.work_dir / "lodo")
    print(text)
    return text


if __name__ == "__main__":
    main()
