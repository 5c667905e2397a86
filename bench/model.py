"""Throughput, load time and peak memory on 2 000 TweetEval validation texts.

    python -m bench.model [--n 2000] [--rounds 3] [--out runs/bench.md]

Each system runs in its own fresh process, so peak memory (max RSS) and load time are its own;
the systems take turns, round after round, so slow drifts in the machine's speed hit them alike.
The Grumble rows time the whole `SentimentModel.predict` path: clean-up, tokenisation, model and
language detection. The pipeline row is the naive baseline: transformers `pipeline`, one text
per call, on the same bundled weights in fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

from models.backends import cpu_count
from models.bundle import DEFAULT_MODEL_DIR
from models.training import data

SYSTEMS = {
    "default": "Grumble default backend (SentimentModel.load())",
    "torch": "Grumble torch fp32, batched",
    "pipeline": "transformers pipeline, 1 text per call",
    "vader": "VADER",
}
WARMUP = 32


def _machine_busy_s() -> float:
    """CPU seconds all processes have used since boot (Linux /proc/stat), or NaN elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _peak_mb() -> float:
    """This process's peak resident memory. Linux keeps ru_maxrss across execve, so a worker started
    from a big parent (a test run) would report the parent's peak; VmHWM belongs to this image only."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(system: str, n: int, model_dir: Path, repeats: int) -> dict[str, Any]:
    # Raw lines as they would arrive (data.tweeteval() returns them already cleaned).
    raw = (data.DATA_DIR / "tweeteval_sentiment" / "val_text.txt").read_text(encoding="utf-8").splitlines()
    texts = [line.strip() for line in raw][:n]
    start = time.perf_counter()
    backend = "?"
    if system in ("default", "torch"):
        from models.sentiment import SentimentModel

        if system == "torch":
            model = SentimentModel.load(model_dir, backend="torch")
        else:
            model = SentimentModel.load(None if model_dir == DEFAULT_MODEL_DIR else model_dir)
        backend = model.backend_name
        if system == "torch":
            import torch

            torch.set_num_threads(cpu_count())

        def run(batch: list[str]) -> None:
            model.predict(batch)

    elif system == "pipeline":
        import torch
        from transformers import pipeline

        torch.set_num_threads(cpu_count())
        pipe = pipeline(
            "text-classification", model=str(model_dir), top_k=None, dtype=torch.float32, device=-1
        )
        backend = "torch"

        def run(batch: list[str]) -> None:
            for text in batch:
                pipe(text)

    elif system == "vader":
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
        backend = "lexicon"

        def run(batch: list[str]) -> None:
            for text in batch:
                analyzer.polarity_scores(text)

    else:
        raise SystemExit(f"unknown system {system}")
    load_s = time.perf_counter() - start
    run(texts[:WARMUP])
    timings = []
    for _ in range(repeats):
        busy_start = _machine_busy_s()
        cpu_start = time.process_time()
        start = time.perf_counter()
        run(texts)
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
        # What other processes used meanwhile: the benchmark shares the machine with other work.
        others = max(0.0, _machine_busy_s() - busy_start - cpu_seconds)
        timings.append((seconds, cpu_seconds, others))
    # The median run: single runs on this shared VM vary by up to ~40 %.
    seconds, cpu_seconds, others = sorted(timings)[len(timings) // 2]
    return {
        "system": system,
        "backend": backend,
        "n": len(texts),
        "load_s": load_s,
        "seconds": seconds,
        "texts_per_s": len(texts) / seconds,
        "cpu_s": cpu_seconds,
        "others_cpu_share": others / (seconds * cpu_count()),
        "peak_mb": _peak_mb(),
    }


def _run_worker(system: str, args: argparse.Namespace) -> dict[str, Any]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.model",
            "--worker",
            system,
            "--n",
            str(args.n),
            "--model",
            str(args.model),
            "--repeats",
            str(args.repeats),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TOKENIZERS_PARALLELISM": os.environ.get("TOKENIZERS_PARALLELISM", "true")},
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{system} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument(
        "--repeats", type=int, default=2, help="timed runs per worker process; its median is kept"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="times every system runs, interleaved; medians are reported"
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.model, args.repeats)))
        return ""

    systems = args.systems.split(",")
    # Rounds interleave the systems (default, torch, ..., default, torch, ...): this shared VM's speed
    # drifts by tens of percent over minutes, and a ratio is only fair between neighbouring runs.
    rounds = [{system: _run_worker(system, args) for system in systems} for _ in range(args.rounds)]
    base = systems[0]
    lines = [
        f"{args.n} TweetEval validation texts, {cpu_count()} CPU cores, {args.rounds} round(s) each running "
        f"every system in a fresh process ({args.repeats} timed runs after a warm-up, median kept); "
        f"figures are the median over rounds, ratios are taken within each round",
        "",
        f"| system | backend | texts/s | range | x {base} | ratio range | load s | peak MB | CPU s "
        "| others' CPU |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for system in systems:
        runs = [r[system] for r in rounds]
        speeds = [r["texts_per_s"] for r in runs]
        ratios = [r[system]["texts_per_s"] / r[base]["texts_per_s"] for r in rounds]
        lines.append(
            f"| {SYSTEMS[system]} | {runs[0]['backend']} | {median(speeds):.0f} | "
            f"{min(speeds):.0f}-{max(speeds):.0f} | {median(ratios):.2f} | "
            f"{min(ratios):.2f}-{max(ratios):.2f} | {median([r['load_s'] for r in runs]):.2f} | "
            f"{max(r['peak_mb'] for r in runs):.0f} | {median([r['cpu_s'] for r in runs]):.1f} | "
            f"{100 * max(r['others_cpu_share'] for r in runs):.0f} % |"
        )
    lines += ["", "Per round (texts/s):"]
    for number, result in enumerate(rounds, start=1):
        lines.append(
            f"- round {number}: "
            + ", ".join(f"{system} {result[system]['texts_per_s']:.0f}" for system in systems)
        )
    lines += [
        "",
        "peak MB: the largest over rounds. CPU s: processor time the timed run used (all its threads).",
        "others' CPU: the largest share of the machine's cores other processes used during a timed run;",
        "when high, texts/s understates an idle machine.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    main()
