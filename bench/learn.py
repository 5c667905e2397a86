"""Simulate a deployment learning from its corrections: what `grumble learn`'s rule does with N corrections.

    nice -n 19 python -m bench.learn [--sizes 50,100,200,500] [--draws 5] [--pool 3000] [--out FILE] \
        [--max-recall-drop 0.05]

For each labelled set of ../shared/data/sentiment in turn, N corrections are drawn at random from it and
the learning rule (monitor/learn/decide.py: offsets fitted on them, cross-validated, refused unless they
generalise and keep the multi-domain dev score) decides; the result is measured on the rest of the set:
negative recall, negative precision, macro-F1 before and after, averaged over --draws draws. The default
target keeps its complaint floor (`[learn] max_recall_drop`, as `grumble learn` does); 1 runs the rule
without it.

Two base models, because the bundled one has been trained on every set's training split:
- "unseen domain": the first generation (git b190bda), trained on TweetEval and SST-2 only, on the eight
  sets it never saw (each set's rows, a seeded --pool of them). This is the deployment the issue means:
  a domain the model has not read.
- "seen domain": the bundled second generation on each set's dev split (rows it did not train on, from
  domains it did). It flatters the base model (it already learned each domain's balance, so there is
  less left to learn) and the pools are small (231-2,000 rows; N too close to the pool is skipped).
Leave-one-domain-out models (models/training/lodo.py) would replace the first generation here once run.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models import DEFAULT_MODEL_DIR, SentimentModel
from models.sentiment import log_probabilities
from models.training import corpus, data, evaluate
from models.training.dev_probe import probe_of
from models.training.dev_splits import dev_only
from monitor.config.learn import LearnSettings
from monitor.learn.decide import decide
from monitor.learn.dev_check import DevProbe
from monitor.learn.offsets import Array, Scores, Target
from monitor.learn.offsets import evaluate as scores_of

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".artifacts" / "learn-cache"
FIRST_GENERATION = "b190bda"
SEEN_BY_FIRST = {"tweeteval_sentiment", "sst2"}
MIN_EVAL = 100  # rows left to measure on, at least
TARGETS = (None, 0.85)  # the default target (best macro-F1) and a complaint target


@dataclass
class Pool:
    log_p: Array
    labels: np.ndarray


def log_probs(model: SentimentModel, key: str, texts: list[str]) -> Array:
    """The model's log-probabilities on `texts`, cached by model version and `key`."""
    path = CACHE / f"{model.version}-{key}.npy"
    if path.is_file():
        cached: Array = np.load(path)
        if len(cached) == len(texts):
            return cached
    started = time.perf_counter()
    scores = model.predict(texts)
    out = log_probabilities(scores)
    print(
        f"  scored {len(texts)} texts of {key} with {model.version} in {time.perf_counter() - started:.0f} s"
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def dev_probe(model: SentimentModel, dev: dict[str, data.Dataset]) -> DevProbe:
    return probe_of({name: log_probs(model, f"dev-{name}", ds.texts) for name, ds in dev.items()}, dev)


def unseen_pools(model: SentimentModel, pool_size: int, seed: int) -> dict[str, Pool]:
    pools = {}
    for item in corpus.SOURCES:
        if item.name in SEEN_BY_FIRST:
            continue
        full = data.sample(
            corpus.read_tsv(data.DATA_DIR / item.name / "data.tsv", item.name), pool_size, seed
        )
        pools[item.name] = Pool(
            log_probs(model, f"all-{item.name}-{pool_size}", full.texts), np.array(full.labels)
        )
    return pools


def seen_pools(probe: DevProbe) -> dict[str, Pool]:
    # SST-2 has no neutral rows and is judged by its binary decision: it stays out of a 3-class simulation.
    return {n: Pool(probe.log_p[n], np.array(probe.labels[n])) for n in probe.log_p if n != "sst2"}


@dataclass
class Cell:
    accepted: int = 0
    draws: int = 0
    before: list[Scores] | None = None
    after: list[Scores] | None = None
    forced: list[Scores] | None = None  # the fitted offsets applied whatever the rule said
    unguarded: list[Scores] | None = None  # the rule without the multi-domain dev check
    unguarded_accepted: int = 0

    def add(self, before: Scores, after: Scores, forced: Scores, accepted: bool, unguarded: bool) -> None:
        self.unguarded_accepted += int(unguarded)
        for name, value in (
            ("before", before),
            ("after", after),
            ("forced", forced),
            ("unguarded", forced if unguarded else before),
        ):
            if getattr(self, name) is None:
                setattr(self, name, [])
            getattr(self, name).append(value)
        self.draws += 1
        self.accepted += int(accepted)


def mean(scores: list[Scores] | None, key: str) -> float:
    return float(np.mean([getattr(s, key) for s in scores or []]))


def simulate(
    pools: dict[str, Pool],
    sizes: list[int],
    draws: int,
    seed: int,
    probe: Callable[[], DevProbe | None],
    max_recall_drop: float,
) -> dict[tuple[str, str, int], Cell]:
    cells: dict[tuple[str, str, int], Cell] = {}
    for name, pool in pools.items():
        for size in sizes:
            if size > len(pool.labels) - MIN_EVAL:
                continue
            for draw in range(draws):
                order = np.array(
                    random.Random(f"{seed}:{name}:{size}:{draw}").sample(
                        range(len(pool.labels)), len(pool.labels)
                    )
                )
                taken, rest = order[:size], order[size:]
                for target in (Target(t, max_recall_drop) for t in TARGETS):
                    verdict = decide(pool.log_p[taken], pool.labels[taken], (0.0, 0.0, 0.0), target, 5, probe)
                    before = scores_of(pool.log_p[rest], pool.labels[rest], (0.0, 0.0, 0.0))
                    forced = scores_of(pool.log_p[rest], pool.labels[rest], verdict.offsets)
                    after = forced if verdict.accepted else before
                    # The dev check runs only on what cross-validation accepted.
                    unguarded = verdict.accepted or verdict.report["dev_check"]["ran"]
                    cells.setdefault((name, target.name, size), Cell()).add(
                        before, after, forced, verdict.accepted, unguarded
                    )
    return cells


def table(title: str, cells: dict[tuple[str, str, int], Cell]) -> str:
    lines = [
        f"### {title}",
        "",
        "| set | target | N | activated | neg recall before -> after | neg precision before -> after "
        "| macro-F1 before -> after | without the dev check: activated, neg recall, macro-F1 "
        "| macro-F1 if always applied |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, target, size), cell in sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        lines.append(
            f"| {name} | {target} | {size} | {cell.accepted}/{cell.draws} "
            f"| {mean(cell.before, 'neg_recall'):.3f} -> {mean(cell.after, 'neg_recall'):.3f} "
            f"| {mean(cell.before, 'neg_precision'):.3f} -> {mean(cell.after, 'neg_precision'):.3f} "
            f"| {mean(cell.before, 'macro_f1'):.3f} -> {mean(cell.after, 'macro_f1'):.3f} "
            f"| {cell.unguarded_accepted}/{cell.draws}, {mean(cell.unguarded, 'neg_recall'):.3f}, "
            f"{mean(cell.unguarded, 'macro_f1'):.3f} "
            f"| {mean(cell.forced, 'macro_f1'):.3f} |"
        )
    lines += [
        "",
        "Mean over sets:",
        "",
        "| target | N | activated | neg recall | neg precision | macro-F1 "
        "| without the dev check: activated, neg recall, neg precision, macro-F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for target in sorted({k[1] for k in cells}):
        for size in sorted({k[2] for k in cells}):
            group = [c for (n, t, s), c in cells.items() if t == target and s == size]
            if not group:
                continue
            before = [x for c in group for x in c.before or []]
            after = [x for c in group for x in c.after or []]
            free = [x for c in group for x in c.unguarded or []]
            lines.append(
                f"| {target} | {size} | {sum(c.accepted for c in group)}/{sum(c.draws for c in group)} "
                f"| {mean(before, 'neg_recall'):.3f} -> {mean(after, 'neg_recall'):.3f} "
                f"| {mean(before, 'neg_precision'):.3f} -> {mean(after, 'neg_precision'):.3f} "
                f"| {mean(before, 'macro_f1'):.3f} -> {mean(after, 'macro_f1'):.3f} "
                f"| {sum(c.unguarded_accepted for c in group)}/{sum(c.draws for c in group)}, "
                f"{mean(free, 'neg_recall'):.3f}, {mean(free, 'neg_precision'):.3f}, "
                f"{mean(free, 'macro_f1'):.3f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="50,100,200,500")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--pool", type=int, default=3000, help="rows per unseen set (a seeded sample)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=ROOT / ".artifacts" / "learn.md")
    parser.add_argument(
        "--max-recall-drop",
        type=float,
        default=LearnSettings().max_recall_drop,
        help="[learn] max_recall_drop: the default target's complaint floor (1: none, the rule before it)",
    )
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    started = time.perf_counter()
    dev = dev_only(data.DATA_DIR)
    parts = [
        f"`python -m bench.learn --sizes {args.sizes} --draws {args.draws} --pool {args.pool} "
        f"--max-recall-drop {args.max_recall_drop:g}`\n"
    ]
    with tempfile.TemporaryDirectory() as tmp:
        commit = evaluate.previous_bundle(DEFAULT_MODEL_DIR, FIRST_GENERATION, Path(tmp) / "first")
        if commit is None:
            parts.append(
                "The first generation is not in this checkout's git history: its rows are left out.\n"
            )
        else:
            first = SentimentModel.load(Path(tmp) / "first")
            probe = dev_probe(first, dev)
            cells = simulate(
                unseen_pools(first, args.pool, args.seed),
                sizes,
                args.draws,
                args.seed,
                lambda: probe,
                args.max_recall_drop,
            )
            parts.append(
                table(
                    f"Unseen domain: {first.version} (first generation, git {commit}) on sets it never saw",
                    cells,
                )
            )
    bundled = SentimentModel.load()
    probe = dev_probe(bundled, dev)
    cells = simulate(seen_pools(probe), sizes, args.draws, args.seed, lambda: probe, args.max_recall_drop)
    parts.append(table(f"Seen domain: {bundled.version} (bundled) on each set's dev split", cells))
    parts.append(f"{time.perf_counter() - started:.0f} s in all.\n")
    text = "\n".join(parts)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    main()
