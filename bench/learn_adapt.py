"""Simulate a deployment fine-tuning on its corrections, against fitting offsets on them (issue 21, part 2).

    nice -n 19 python -m bench.learn_adapt [--recipe gen2-recipe-from-gen1] [--sizes 200,500] [--draws 1]

The base model of each simulated deployment is a leave-one-domain-out fold (models/training/lodo.py,
`<work-dir>/checkpoints/lodo-<recipe>-<domain>/fold/best`): it never read the domain the deployment's
corrections come from, and the general mix replayed beside them leaves that domain out too. For every set
of the held-out domain, N corrections are drawn from a seeded pool of its rows; the rest of the pool
measures:
- the fold model as it is,
- offsets fitted on the corrections (monitor/learn/offsets.fit, always applied),
- the fold model fine-tuned on the corrections with the general mix replayed (models/training/adapt.py),
and, for the fine-tuned model, its multi-domain dev score (the dev splits of the four domains it was
trained on) before and after, the check `grumble learn` applies. Each cell is written to
<work-dir>/learn-adapt/<recipe>.jsonl as it ends; a rerun skips the cells already there.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from models.training import adapt, corpus, data
from models.training.dev_splits import dev_only
from models.training.lodo import DOMAINS, ROOT, split_by_domain
from models.training.lodo_average import averaged_state
from monitor.learn.offsets import NO_OFFSETS, Target, fit
from monitor.learn.offsets import evaluate as scores_of


def fold_checkpoint(work_dir: Path, recipe: str, domain: str) -> Path:
    """Where models/training/lodo.py kept the fold of `recipe` trained without `domain`."""
    return work_dir / "checkpoints" / f"lodo-{recipe}-{domain.replace(' ', '-')}" / "fold" / "best"


def set_pool(item: corpus.Source, size: int) -> data.Dataset:
    """The seeded rows of one labelled set that a simulated deployment draws from and is measured on."""
    pool = data.sample(corpus.read_tsv(data.DATA_DIR / item.name / "data.tsv", item.name), size, seed=11)
    return data.Dataset(item.name, pool.texts, pool.labels)


def dev_score(model: Any, tokenizer: Any, dev: dict[str, data.Dataset]) -> float:
    logits = {
        n: adapt.log_probabilities(model, tokenizer, ds.texts).astype(np.float32) for n, ds in dev.items()
    }
    return float(corpus.dev_report(dev, logits)["dev_score"])


def run_cell(
    checkpoint: Path,
    pool: data.Dataset,
    size: int,
    draw: int,
    replay: data.Dataset,
    dev: dict[str, data.Dataset],
    base_dev: float,
    recipe: adapt.AdaptRecipe,
    average: float = 0.0,
) -> dict[str, Any]:
    labels = np.array(pool.labels)
    order = random.Random(f"{pool.name}:{size}:{draw}").sample(range(len(labels)), len(labels))
    taken, rest = np.array(order[:size]), np.array(order[size:])
    model, tokenizer = adapt.load(checkpoint)
    log_p = adapt.log_probabilities(model, tokenizer, pool.texts)
    offsets = fit(log_p[taken], labels[taken], Target())
    started = time.time()
    adapt.adapt(model, tokenizer, [pool.texts[i] for i in taken], labels[taken].tolist(), replay, recipe)
    minutes = (time.time() - started) / 60
    tuned = adapt.log_probabilities(model, tokenizer, [pool.texts[i] for i in rest])
    tuned_dev = round(dev_score(model, tokenizer, dev), 4)
    averaged: dict[str, Any] = {}
    if average:
        # Pulled back toward the model it started from (lodo_average.averaged_state): less forgetting.
        start, _ = adapt.load(checkpoint)
        model.load_state_dict(averaged_state(start.state_dict(), model.state_dict(), average))
        mixed = adapt.log_probabilities(model, tokenizer, [pool.texts[i] for i in rest])
        averaged = {
            "averaged": scores_of(mixed, labels[rest], NO_OFFSETS).as_dict(),
            "averaged_dev": round(dev_score(model, tokenizer, dev), 4),
            "anchor_weight": average,
        }
    return {
        **averaged,
        "set": pool.name,
        "size": size,
        "draw": draw,
        "rest": len(rest),
        "base": scores_of(log_p[rest], labels[rest], NO_OFFSETS).as_dict(),
        "offsets": scores_of(log_p[rest], labels[rest], tuple(float(x) for x in offsets)).as_dict(),
        "fine_tuned": scores_of(tuned, labels[rest], NO_OFFSETS).as_dict(),
        "dev_before": round(base_dev, 4),
        "dev_after": tuned_dev,
        "fine_tune_minutes": round(minutes, 2),
        "recipe": recipe.as_dict(),
    }


def recipe_name(row: dict[str, Any]) -> str:
    r = row["recipe"]
    name = f"lr {r['lr']:g}, {r['epochs']} epochs, replay {r['replay_per_correction']:g} per correction"
    name += ", embeddings frozen" if r.get("freeze_embeddings") else ""
    return name + (f"; averaged: anchor weight {row['anchor_weight']:g}" if "anchor_weight" in row else "")


def table(rows: list[dict[str, Any]]) -> str:
    """One table per recipe; "averaged" is the fine-tuned model averaged with its start (where run)."""
    kinds = ("base", "offsets", "fine_tuned", "averaged")
    out: list[str] = []
    for recipe in sorted({recipe_name(r) for r in rows}):
        mine = [r for r in rows if recipe_name(r) == recipe]
        shown = [k for k in kinds if all(k in r for r in mine)]
        heads = " / ".join(k.replace("_", "-") for k in shown)
        out += [
            f"### {recipe}",
            "",
            f"| set | N | draws | neg recall: {heads} | neg precision: {heads} | macro-F1: {heads} "
            "| dev: base / fine-tuned" + (" / averaged" if "averaged" in shown else "") + " | minutes |",
            "|---|---|---|---|---|---|---|---|",
        ]
        groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for row in mine:
            groups.setdefault((row["set"], row["size"]), []).append(row)
        for (name, size), group in sorted(groups.items()):

            def m(kind: str, key: str, g: list[dict[str, Any]] = group) -> float:
                return float(np.mean([r[kind][key] for r in g]))

            cells = [
                " / ".join(f"{m(k, key):.3f}" for k in shown)
                for key in ("neg_recall", "neg_precision", "macro_f1")
            ]
            devs = ["dev_before", "dev_after"] + (["averaged_dev"] if "averaged" in shown else [])
            out.append(
                f"| {name} | {size} | {len(group)} | "
                + " | ".join(cells)
                + " | "
                + " / ".join(f"{np.mean([r[d] for r in group]):.4f}" for d in devs)
                + f" | {np.mean([r['fine_tune_minutes'] for r in group]):.1f} |"
            )
        out.append("")
    return "\n".join(out)


def simulation_arguments(doc: str | None) -> argparse.ArgumentParser:
    """The options every simulated deployment on LODO folds takes (this module and learn_rule.py)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="gen2-recipe-from-gen1")
    parser.add_argument("--sizes", default="200,500")
    parser.add_argument("--draws", type=int, default=1)
    parser.add_argument("--pool", type=int, default=2000, help="rows of each set to draw from and measure on")
    parser.add_argument("--domains", default=",".join(DOMAINS), help="held-out domains to simulate")
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".artifacts")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="print the table of the cells done and exit")
    return parser


def main(argv: list[str] | None = None) -> str:
    parser = simulation_arguments(__doc__)
    parser.add_argument("--replay", type=int, default=20000, help="rows of the general mix to replay from")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--replay-per-correction", type=float, default=4.0)
    parser.add_argument(
        "--average", type=float, default=0.0, help="also score the fine-tuned model averaged with its start"
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    out = args.work_dir / "learn-adapt" / f"{args.recipe}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.is_file() else []
    # Trained unaveraged: --average scores the averaged model beside it from the same run.
    recipe = adapt.AdaptRecipe(
        epochs=args.epochs, lr=args.lr, replay_per_correction=args.replay_per_correction, anchor_weight=0.0
    )
    done = {
        (r["set"], r["size"], r["draw"], json.dumps(r["recipe"], sort_keys=True), r.get("anchor_weight", 0.0))
        for r in rows
    }
    if not args.report:
        mix = corpus.load(data.DATA_DIR)
        all_dev = dev_only(data.DATA_DIR)
        for domain in [d.strip() for d in args.domains.split(",")]:
            checkpoint = fold_checkpoint(args.work_dir, args.recipe, domain)
            if not checkpoint.is_dir():
                continue
            seen, _ = split_by_domain(mix, domain)
            replay = adapt.replay_pool(seen, args.replay, seed=7)
            dev = {n: ds for n, ds in all_dev.items() if corpus.source(n).domain != domain}
            base_dev: float | None = None
            for item in (s for s in corpus.SOURCES if s.domain == domain):
                pool = set_pool(item, args.pool)
                for size in (int(s) for s in args.sizes.split(",")):
                    for draw in range(args.draws):
                        key = (
                            item.name,
                            size,
                            draw,
                            json.dumps(recipe.as_dict(), sort_keys=True),
                            args.average,
                        )
                        if key in done or size > len(pool) - 100:
                            continue
                        if base_dev is None:
                            base_dev = dev_score(*adapt.load(checkpoint), dev)
                        row = run_cell(
                            checkpoint, pool, size, draw, replay, dev, base_dev, recipe, args.average
                        )
                        rows.append(row)
                        with out.open("a", encoding="utf-8") as handle:
                            handle.write(json.dumps(row) + "\n")
                        print(
                            json.dumps(
                                {
                                    k: row[k]
                                    for k in (
                                        "set",
                                        "size",
                                        "base",
                                        "offsets",
                                        "fine_tuned",
                                        "dev_before",
                                        "dev_after",
                                        "fine_tune_minutes",
                                    )
                                }
                            ),
                            flush=True,
                        )
    text = table(rows)
    print(text)
    return text


if __name__ == "__main__":
    main()
