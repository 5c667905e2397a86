"""Leave-one-domain-out: choose by what has not been seen (issue 21, part 1).

    python -m models.training.lodo --name gen3 --init models/bundled [train.py's options...]
    python -m models.training.lodo --name gen1 --shipped DIR --seen "tweets,film reviews"
    python -m models.training.lodo --report           # every recorded recipe side by side

For each of the five domains of the corpus (tweets, brand tweets, app reviews, product reviews, film
reviews) a model is trained by one recipe (train.py's options: --init, --epochs, --lr, --per-epoch, ...)
on the other four domains' sets only, its checkpoint chosen on their dev splits (the in-domain dev
score), and then scored on the held-out domain's dev splits. The mean over the five held-out domains is
the selection score; it is reported beside the mean in-domain dev score, which is what every earlier
choice was judged by. Training rows equal to any dev text (the held-out domain's included) are dropped,
as corpus.load drops them.

`--shipped DIR` scores an already-trained model on every domain without training; `--seen` names the
domains it was trained on (their scores are in-domain, not held-out: the first generation saw tweets
and film reviews only, the second saw all five).

Runs are long on a CPU (a fold of the second generation's recipe is about 23 minutes on two idle cores),
so each fold is a checkpoint: its result is written to <work-dir>/lodo/<name>/<domain>.json as soon as
it ends, and a later run with the same --name skips the folds already written; inside a fold the best
checkpoint so far is kept by train.py's loop (models/checkpoints/lodo-<name>-<domain>/).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from models.training import corpus, data
from models.training.dev_splits import dev_only

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = tuple(dict.fromkeys(s.domain for s in corpus.SOURCES))
log = logging.getLogger("grumble.lodo")


def split_by_domain(mix: corpus.Corpus, held_out: str) -> tuple[corpus.Corpus, dict[str, data.Dataset]]:
    """(the other domains' training and dev sets, the held-out domain's dev sets)."""
    keep = [n for n in mix.train if corpus.source(n).domain != held_out]
    return (
        corpus.Corpus({n: mix.train[n] for n in keep}, {n: mix.dev[n] for n in keep if n in mix.dev}),
        {n: ds for n, ds in mix.dev.items() if corpus.source(n).domain == held_out},
    )


def domain_scores(dev: dict[str, data.Dataset], logits: dict[str, Any]) -> dict[str, float]:
    report = corpus.dev_report(dev, logits)
    return {domain: float(score) for domain, score in report["domains"].items()}


def run_fold(
    args: argparse.Namespace, train_args: argparse.Namespace, mix: corpus.Corpus, held_out: str
) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from models.encoding import Encoder
    from models.training.loop import dev_logits, fit, make_plan

    started = time.time()
    device = (
        ("cuda" if torch.cuda.is_available() else "cpu") if train_args.device == "auto" else train_args.device
    )
    if device == "cpu":
        torch.set_num_threads(train_args.threads)
    torch.manual_seed(train_args.seed)
    seen, unseen_dev = split_by_domain(mix, held_out)
    quota = corpus.epoch_quota(seen, train_args.per_epoch)
    init = train_args.init
    if init is None:
        raise SystemExit("lodo: pass --init (a model directory to continue: models/bundled, or a base model)")
    tokenizer = AutoTokenizer.from_pretrained(init, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        init, local_files_only=True, dtype=torch.float32
    )
    model.to(device)
    plan = make_plan(train_args, Encoder(tokenizer, train_args.max_length), seen, quota, train_args.epochs)
    ckpt_dir = args.checkpoints / f"lodo-{args.name}-{held_out.replace(' ', '-')}"
    result = fit("fold", model, tokenizer, plan, seen.dev, train_args, ckpt_dir, device, lr=train_args.lr)
    best = AutoModelForSequenceClassification.from_pretrained(
        result["checkpoint"], local_files_only=True, dtype=torch.float32
    ).to(device)
    encoder = Encoder(tokenizer, train_args.infer_max_length)
    held = domain_scores(unseen_dev, dev_logits(best, encoder, unseen_dev, device))
    return {
        "held_out": held_out,
        "held_out_score": round(held[held_out], 4),
        "in_domain_dev_score": round(float(result["best"]["dev_score"]), 4),
        "in_domain": result["best"]["domains"],
        "steps": plan.total,
        "best_step": result["best"].get("step"),
        "minutes": round((time.time() - started) / 60, 1),
        "recipe": {k: str(v) for k, v in vars(train_args).items() if k in RECIPE_KEYS},
    }


RECIPE_KEYS = {"init", "epochs", "lr", "per_epoch", "max_length", "class_weight_power", "seed", "max_steps"}


def score_shipped(model_dir: Path, seen: set[str], data_dir: Path, seed: int) -> list[dict[str, Any]]:
    """An existing model on every domain's dev splits; `seen` domains are marked in-domain."""
    from models import SentimentModel
    from models.sentiment import log_probabilities

    model = SentimentModel.load(model_dir)
    dev = dev_only(data_dir, seed)
    logits = {}
    for name, ds in dev.items():
        logits[name] = log_probabilities(model.predict(ds.texts)).astype(np.float32)
    scores_by_domain = domain_scores(dev, logits)
    return [
        {"held_out": d, "score": round(scores_by_domain[d], 4), "seen": d in seen, "model": model.version}
        for d in DOMAINS
    ]


def report(results_dir: Path) -> str:
    """Every recorded recipe: its held-out score per domain, their mean, and the in-domain dev score."""
    lines = [
        "| recipe | " + " | ".join(DOMAINS) + " | mean held-out | mean in-domain dev | folds |",
        "|---|" + "---|" * (len(DOMAINS) + 3),
    ]
    for recipe in sorted(p for p in results_dir.glob("*") if p.is_dir()):
        folds = {
            d: json.loads((recipe / f"{d}.json").read_text())
            for d in DOMAINS
            if (recipe / f"{d}.json").is_file()
        }
        if not folds:
            continue
        cells: list[str] = []
        held: list[float] = []
        inside: list[float] = []
        for d in DOMAINS:
            fold = folds.get(d)
            if fold is None:
                cells.append("-")
            elif "score" in fold:  # a shipped model scored as it is
                cells.append(f"{fold['score']:.4f}" + (" (seen)" if fold["seen"] else ""))
                (inside if fold["seen"] else held).append(fold["score"])
            else:
                cells.append(f"{fold['held_out_score']:.4f}")
                held.append(fold["held_out_score"])
                inside.append(fold["in_domain_dev_score"])
        mean_held = f"{np.mean(held):.4f}" if held else "-"
        mean_in = f"{np.mean(inside):.4f}" if inside else "-"
        lines.append(
            f"| {recipe.name} | " + " | ".join(cells) + f" | {mean_held} | {mean_in} | {len(folds)}/5 |"
        )
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, argparse.Namespace]:
    from models.training.train import parse_args as train_parse_args

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--name", help="the recipe's name: results go to <work-dir>/lodo/<name>/")
    parser.add_argument(
        "--domains", default=",".join(DOMAINS), help="held-out domains to run (default: all five)"
    )
    parser.add_argument("--shipped", type=Path, help="score this trained model on every domain; no training")
    parser.add_argument("--seen", default="", help="with --shipped: the domains it was trained on")
    parser.add_argument("--report", action="store_true", help="print every recorded recipe and exit")
    args, rest = parser.parse_known_args(argv)
    train_args = train_parse_args(rest)
    work = train_args.work_dir or ROOT / ".artifacts"
    args.results = work / "lodo"
    args.checkpoints = work / "checkpoints"
    return args, train_args


def main(argv: list[str] | None = None) -> str:
    args, train_args = parse(argv)
    if args.report:
        text = report(args.results)
        print(text)
        return text
    if not args.name:
        raise SystemExit("lodo: name the recipe with --name (its results go to .artifacts/lodo/<name>/)")
    out = args.results / args.name
    out.mkdir(parents=True, exist_ok=True)
    handler = logging.StreamHandler(sys.stderr)
    logging.basicConfig(level=logging.INFO, handlers=[handler, logging.FileHandler(out / "lodo.log")])
    if args.shipped is not None:
        seen = {d.strip() for d in args.seen.split(",") if d.strip()}
        for row in score_shipped(args.shipped, seen, train_args.data_dir, train_args.split_seed):
            (out / f"{row['held_out']}.json").write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
    else:
        wanted = [d.strip() for d in args.domains.split(",") if d.strip()]
        unknown = sorted(set(wanted) - set(DOMAINS))
        if unknown:
            raise SystemExit(f"lodo: unknown domain {unknown[0]!r}; domains are {', '.join(DOMAINS)}")
        todo = [d for d in wanted if not (out / f"{d}.json").is_file()]
        log.info(
            "recipe %s: %d fold(s) to run (%s); done already: %s",
            args.name,
            len(todo),
            todo,
            sorted(set(wanted) - set(todo)),
        )
        if todo:
            # Every set is loaded so that no training row equals a dev text of any domain, held-out ones too.
            mix = corpus.load(train_args.data_dir, seed=train_args.split_seed, names=train_args.sets)
            for held_out in todo:
                log.info("fold: %s held out", held_out)
                result = run_fold(args, train_args, mix, held_out)
                (out / f"{held_out}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
                log.info("fold %s: %s", held_out, result)
    text = report(args.results)
    print(text)
    return text


if __name__ == "__main__":
    main()
