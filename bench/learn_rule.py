"""What `grumble learn`'s whole rule does on a domain its model never read (issue 21, part 2).

    nice -n 19 python -m bench.learn_rule [--recipe gen2-recipe-from-gen1] [--sizes 200,500] \
        [--targets macro-f1,0.85] [--domains "brand tweets"] [--max-recall-drop 0.05]

bench/learn_adapt.py measures each way of learning applied whatever the rule says; this one runs the rule
itself, the same functions `grumble learn` calls, on each simulated deployment: offsets fitted and
judged (monitor/learn/decide.py, with the fold's own dev probe), fine-tuning cross-validated and
dev-checked (monitor/learn/fine_tune.fine_tune_check, with the general mix of the other domains
replayed), and the choice between them (fine_tune.prefer_fine_tuned). The outcome is measured on the
rest of the set: what the watch would score with after `grumble learn`.

The deployment's model is the leave-one-domain-out fold checkpoint of `--recipe` (as in learn_adapt.py),
and the corrections are the same draws (same seed per set, N and draw). Scoring is torch fp32 (the
fine-tuned layers through their stored fp16); the product scores through int8 ONNX. Each cell is written
to <work-dir>/learn-rule/<recipe>.jsonl as it ends; a rerun skips the cells already there.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from bench.learn_adapt import fold_checkpoint, set_pool, simulation_arguments
from models.training import adapt, corpus, data
from models.training.dev_probe import probe_of
from models.training.dev_splits import dev_only
from monitor.config.learn import LearnSettings
from monitor.learn.decide import decide
from monitor.learn.dev_check import DevProbe
from monitor.learn.fine_tune import fine_tune_check, prefer_fine_tuned
from monitor.learn.offsets import NO_OFFSETS, Target
from monitor.learn.offsets import evaluate as scores_of


def replay_folder(domain: str, into: Path) -> Path:
    """The labelled sets of every domain but `domain`, as `[learn] replay_data` would name them."""
    for item in corpus.SOURCES:
        if item.domain != domain and (data.DATA_DIR / item.name).is_dir():
            (into / item.name).symlink_to(data.DATA_DIR / item.name)
    return into


def fold_probe(model: Any, tokenizer: Any, dev: dict[str, data.Dataset]) -> DevProbe:
    return probe_of({n: adapt.log_probabilities(model, tokenizer, ds.texts) for n, ds in dev.items()}, dev)


def with_trained_part(checkpoint: Path, weights: bytes) -> tuple[Any, Any]:
    """The fold model with the fine-tuned layers `grumble learn` would store (fp16) in place."""
    from safetensors.torch import load

    model, tokenizer = adapt.load(checkpoint)
    state = model.state_dict()
    stored = {name: tensor.to(state[name].dtype) for name, tensor in load(weights).items()}
    model.load_state_dict(stored, strict=False)
    return model, tokenizer


def run_cell(
    checkpoint: Path,
    pool: data.Dataset,
    log_p: np.ndarray,
    size: int,
    draw: int,
    target: Target,
    settings: LearnSettings,
    probe: DevProbe,
) -> dict[str, Any]:
    labels = np.array(pool.labels)
    order = random.Random(f"{pool.name}:{size}:{draw}").sample(range(len(labels)), len(labels))
    taken, rest = np.array(order[:size]), np.array(order[size:])
    started = time.time()
    offsets = decide(
        log_p[taken], labels[taken], NO_OFFSETS, target, settings.folds, lambda: probe, settings.max_dev_loss
    )
    tuned = fine_tune_check(
        SimpleNamespace(directory=checkpoint),
        [pool.texts[i] for i in taken],
        labels[taken],
        log_p[taken],
        NO_OFFSETS,
        target,
        settings,
    )
    minutes = (time.time() - started) / 60
    base = scores_of(log_p[rest], labels[rest], NO_OFFSETS)
    with_offsets = scores_of(log_p[rest], labels[rest], offsets.offsets) if offsets.accepted else base
    fine_tuned = None
    if tuned.accepted and tuned.weights is not None:
        model, tokenizer = with_trained_part(checkpoint, tuned.weights)
        tuned_log_p = adapt.log_probabilities(model, tokenizer, [pool.texts[i] for i in rest])
        fine_tuned = scores_of(tuned_log_p, labels[rest], tuned.offsets)
    chosen = "fine-tuned" if prefer_fine_tuned(tuned, offsets.accepted, offsets.report) else None
    chosen = chosen or ("offsets" if offsets.accepted else "none")
    after = {"fine-tuned": fine_tuned, "offsets": with_offsets, "none": base}[chosen]
    assert after is not None
    return {
        "set": pool.name,
        "size": size,
        "draw": draw,
        "target": target_label(target),
        "floor": offsets.report["complaint_floor"],
        "rest": len(rest),
        "chosen": chosen,
        "base": base.as_dict(),
        "offsets_rule": with_offsets.as_dict(),
        "after": after.as_dict(),
        "offsets_reason": offsets.reason,
        "fine_tune_reason": tuned.reason,
        "fine_tune": tuned.report,
        "minutes": round(minutes, 1),
    }


def target_label(target: Target) -> str:
    """A cell's target as the tables group it: the default with its complaint floor named (cells run
    before the floor existed, or with max_recall_drop 1, are the bare "macro-f1")."""
    drop = target.allowed_drop
    return target.name if drop is None else f"{target.name}, recall drop <= {drop:g}"


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| set | target | N | chosen | neg recall: base -> rule | neg precision: base -> rule "
        "| macro-F1: base -> offsets' rule alone -> whole rule | fine-tuning's verdict | minutes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["target"], r["set"], r["size"], r["draw"])):
        b, o, a = r["base"], r["offsets_rule"], r["after"]
        cv = r["fine_tune"].get("cross_validation")
        gain = f"gain {cv['gain']['mean']:+.3f} ± {cv['gain']['stderr']:.3f}" if cv else "did not run"
        dev = r["fine_tune"].get("dev_check")
        gain += f", dev {dev['before']:.3f} -> {dev['after']:.3f}" if dev else ""
        out.append(
            f"| {r['set']} | {r['target']} | {r['size']} | {r['chosen']} "
            f"| {b['neg_recall']:.3f} -> {a['neg_recall']:.3f} "
            f"| {b['neg_precision']:.3f} -> {a['neg_precision']:.3f} "
            f"| {b['macro_f1']:.3f} -> {o['macro_f1']:.3f} -> {a['macro_f1']:.3f} "
            f"| {'accepted' if r['chosen'] == 'fine-tuned' else 'refused' if cv else 'stopped'}: {gain} "
            f"| {r['minutes']:.1f} |"
        )
    return "\n".join(out)


def summary(rows: list[dict[str, Any]]) -> str:
    """Means per held-out domain, target and N (and over all sets) of what the rule left each watch with."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in rows:
        for domain in (corpus.source(r["set"]).domain, "all sets"):
            groups.setdefault((domain, r["target"], r["size"]), []).append(r)
    out = [
        "| domain held out | target | N | cells | chosen: offsets / fine-tuned / none "
        "| macro-F1: base -> offsets' rule alone -> whole rule | neg recall: base -> rule "
        "| neg precision: base -> rule |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (domain, target, size), group in sorted(
        groups.items(), key=lambda kv: (kv[0][0] == "all sets", kv[0])
    ):

        def m(kind: str, key: str, g: list[dict[str, Any]] = group) -> float:
            return float(np.mean([r[kind][key] for r in g]))

        chosen = " / ".join(
            str(sum(r["chosen"] == c for r in group)) for c in ("offsets", "fine-tuned", "none")
        )
        out.append(
            f"| {domain} | {target} | {size} | {len(group)} | {chosen} "
            f"| {m('base', 'macro_f1'):.3f} -> {m('offsets_rule', 'macro_f1'):.3f} "
            f"-> {m('after', 'macro_f1'):.3f} "
            f"| {m('base', 'neg_recall'):.3f} -> {m('after', 'neg_recall'):.3f} "
            f"| {m('base', 'neg_precision'):.3f} -> {m('after', 'neg_precision'):.3f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> str:
    parser = simulation_arguments(__doc__)
    parser.add_argument(
        "--targets", default="macro-f1", help="macro-f1 and/or complaint recall targets, e.g. macro-f1,0.85"
    )
    parser.add_argument(
        "--max-recall-drop",
        type=float,
        default=LearnSettings().max_recall_drop,
        help="[learn] max_recall_drop: the default target's complaint floor (1: none, the rule before it)",
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    out = args.work_dir / "learn-rule" / f"{args.recipe}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.is_file() else []
    done = {(r["set"], r["size"], r["draw"], r["target"]) for r in rows}
    drop = args.max_recall_drop
    targets = [Target(None if t == "macro-f1" else float(t), drop) for t in args.targets.split(",")]
    domains = [d.strip() for d in args.domains.split(",")] if not args.report else []
    all_dev = dev_only(data.DATA_DIR) if domains else {}
    for domain in domains:
        checkpoint = fold_checkpoint(args.work_dir, args.recipe, domain)
        if not checkpoint.is_dir():
            print(f"no fold checkpoint for {domain} at {checkpoint}; skipped")
            continue
        with tempfile.TemporaryDirectory() as folder:
            settings = LearnSettings(
                fine_tune_min_corrections=50,
                replay_data=replay_folder(domain, Path(folder)),
                max_recall_drop=drop,
            )
            model, tokenizer = adapt.load(checkpoint)
            probe = fold_probe(
                model, tokenizer, {n: ds for n, ds in all_dev.items() if corpus.source(n).domain != domain}
            )
            for item in (s for s in corpus.SOURCES if s.domain == domain):
                pool = set_pool(item, args.pool)
                log_p = adapt.log_probabilities(model, tokenizer, pool.texts)
                for target in targets:
                    for size in (int(s) for s in args.sizes.split(",")):
                        for draw in range(args.draws):
                            key = (item.name, size, draw, target_label(target))
                            if key in done or size > len(pool) - 100:
                                continue
                            row = run_cell(checkpoint, pool, log_p, size, draw, target, settings, probe)
                            rows.append(row)
                            with out.open("a", encoding="utf-8") as handle:
                                handle.write(json.dumps(row) + "\n")
                            print(table([row]).splitlines()[-1], flush=True)
    text = table(rows) + "\n\n" + summary(rows)
    print(text)
    return text


if __name__ == "__main__":
    main()
