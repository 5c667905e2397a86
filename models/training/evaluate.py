"""Every dev split side by side: the bundled model, the one it replaced, and VADER.

    python -m models.training.evaluate [--model DIR] [--previous REV|none] [--torch] [--out runs/evaluate.md]

The dev splits are models.training.corpus's (the seed the bundle was trained with, so none of these
rows was trained on): TweetEval validation, SST-2 dev (a seeded 1,000) and a stratified split of each other
set. Per split: macro-recall over its classes, negative recall and precision (complaints caught,
false alarms), and binary accuracy on its negative and positive rows (negative if P(negative) >
P(positive); VADER: compound < 0). The previous model is read from git history (`--previous`, by
default the last commit whose bundled weights differ from the working tree's), never committed twice.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from models import DEFAULT_MODEL_DIR, SentimentModel
from models.labels import NEG, NEU, POS
from models.training import corpus, data
from models.training.metrics import report

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_FILES = ("config.json", "grumble.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


@dataclass(frozen=True)
class Predictions:
    three_class: npt.NDArray[np.int64]
    binary: npt.NDArray[np.int64]  # NEG or POS for every text
    seconds: float


System = Callable[[Sequence[str]], Predictions]


def model_system(model: SentimentModel) -> System:
    def run(texts: Sequence[str]) -> Predictions:
        start = time.perf_counter()
        scores = model.predict(texts)
        seconds = time.perf_counter() - start
        probs = np.array([[s.negative, s.neutral, s.positive] for s in scores]).reshape(-1, 3)
        binary = np.where(probs[:, NEG] > probs[:, POS], NEG, POS)
        return Predictions(probs.argmax(axis=1), binary, seconds)

    return run


def vader_system() -> System:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def run(texts: Sequence[str]) -> Predictions:
        start = time.perf_counter()
        compound = np.array([analyzer.polarity_scores(t)["compound"] for t in texts])
        seconds = time.perf_counter() - start
        # VADER's documented thresholds for its 3-way reading.
        three = np.where(compound >= 0.05, POS, np.where(compound <= -0.05, NEG, NEU))
        binary = np.where(compound < 0, NEG, POS)
        return Predictions(three, binary, seconds)

    return run


def previous_bundle(model_dir: Path, rev: str | None, into: Path) -> str | None:
    """Write the bundle as of `rev` (default: the last commit whose bundled weights differ from
    `model_dir`'s) into `into`; returns the commit, or None outside a git checkout or when there is none."""

    def git(*args: str) -> bytes:
        return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True).stdout

    weights = "models/bundled/model.safetensors"
    try:
        if rev is None:
            ours = git("hash-object", str((model_dir / "model.safetensors").resolve())).decode().strip()
            for commit in git("log", "--format=%H", "--", weights).decode().split():
                if git("rev-parse", f"{commit}:{weights}").decode().strip() != ours:
                    rev = commit
                    break
            if rev is None:
                return None
        into.mkdir(parents=True, exist_ok=True)
        for name in BUNDLE_FILES:
            (into / name).write_bytes(git("show", f"{rev}:models/bundled/{name}"))
        return git("rev-parse", "--short", rev).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def table(rows: list[dict[str, str]]) -> str:
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    lines = [
        "| " + " | ".join(c.ljust(widths[c]) for c in columns) + " |",
        "|" + "|".join("-" * (widths[c] + 2) for c in columns) + "|",
    ]
    lines += ["| " + " | ".join(r[c].ljust(widths[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def score_row(ds: data.Dataset, pred: Predictions, binary_only: bool) -> dict[str, float]:
    labels = np.asarray(ds.labels)
    three = report(
        labels,
        pred.binary if binary_only else pred.three_class,
        classes=(NEG, POS) if binary_only else (0, 1, 2),
    )
    polar = labels != NEU
    binary_acc = float(np.mean(pred.binary[polar] == labels[polar])) if polar.any() else float("nan")
    return {**three, "binary_accuracy": binary_acc}


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument(
        "--previous", default=None, help="git revision of the model to compare with; 'none' to skip"
    )
    parser.add_argument("--torch", action="store_true", help="also score the model with torch fp32")
    parser.add_argument("--data-dir", type=Path, default=data.DATA_DIR)
    parser.add_argument("--out", type=Path, default=None, help="also write the report (markdown) here")
    args = parser.parse_args(argv)

    meta = json.loads((args.model / "grumble.json").read_text(encoding="utf-8"))
    training = meta.get("training", {})
    seed = int(training.get("split_seed", training.get("seed", 13)))
    model = SentimentModel.load(args.model)
    systems: dict[str, System] = {f"{model.version} ({model.backend_name}, new)": model_system(model)}
    if args.torch:
        systems[f"{model.version} (torch fp32)"] = model_system(
            SentimentModel.load(args.model, backend="torch")
        )
    notes = [f"Dev splits of models.training.corpus, seed {seed}."]
    with tempfile.TemporaryDirectory() as tmp:
        if args.previous != "none":
            commit = previous_bundle(args.model, args.previous, Path(tmp) / "previous")
            if commit is None:
                notes.append("No previous model in git history here: its rows are left out.")
            else:
                previous = SentimentModel.load(Path(tmp) / "previous")
                systems[f"{previous.version} ({previous.backend_name}, previous, git {commit})"] = (
                    model_system(previous)
                )
        systems["VADER 3.3 (compound ±0.05)"] = vader_system()
        dev = corpus.load(args.data_dir, seed=seed).dev
        rows: list[dict[str, str]] = []
        means: dict[str, list[dict[str, float]]] = {name: [] for name in systems}
        for set_name, ds in dev.items():
            binary_only = corpus.source(set_name).binary
            for sys_name, system in systems.items():
                scores = score_row(ds, system(ds.texts), binary_only)
                means[sys_name].append(scores)
                rows.append(
                    {
                        "dev split": set_name,
                        "system": sys_name,
                        "n": str(len(ds)),
                        "macro-recall": f"{scores['macro_recall']:.4f}",
                        "neg recall": f"{scores['neg_recall']:.4f}",
                        "neg precision": f"{scores['neg_precision']:.4f}",
                        "binary acc": f"{scores['binary_accuracy']:.4f}",
                    }
                )
    for sys_name, per_set in means.items():
        rows.append(
            {
                "dev split": "mean of splits",
                "system": sys_name,
                "n": str(sum(len(ds) for ds in dev.values())),
                **{
                    column: f"{np.mean([s[key] for s in per_set]):.4f}"
                    for column, key in (
                        ("macro-recall", "macro_recall"),
                        ("neg recall", "neg_recall"),
                        ("neg precision", "neg_precision"),
                        ("binary acc", "binary_accuracy"),
                    )
                },
            }
        )
    notes.append(
        "SST-2 has no neutral rows: its macro-recall is over negative and positive, by the binary decision."
    )
    text = table(rows) + "\n\n" + "\n".join(notes) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    main()
