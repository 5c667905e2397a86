"""Side-by-side accuracy of the bundled model (ONNX int8 and torch fp32) and VADER.

    python -m models.evaluate [--model DIR] [--out runs/evaluate.md]

TweetEval validation is scored as 3 classes. SST-2 dev has only negative/positive gold labels,
so every system is scored there by its binary decision: negative if P(negative) > P(positive)
(VADER: compound < 0), positive otherwise; macro scores then average the two gold classes. The
"neutral %" column shows how often the 3-class label would have been neutral, i.e. how many of
these (often fragmentary) phrases a user of the 3-class output would see as neutral.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from models import data
from models.labels import NEG, NEU, POS
from models.metrics import report
from models.sentiment import DEFAULT_MODEL_DIR, SentimentModel


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
        probs = np.array([[s.negative, s.neutral, s.positive] for s in scores])
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


def table(rows: list[dict[str, str]]) -> str:
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    lines = [
        "| " + " | ".join(c.ljust(widths[c]) for c in columns) + " |",
        "|" + "|".join("-" * (widths[c] + 2) for c in columns) + "|",
    ]
    lines += ["| " + " | ".join(r[c].ljust(widths[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--out", type=Path, default=None, help="also write the report (markdown) here")
    args = parser.parse_args(argv)

    onnx_model = SentimentModel.load(args.model, backend="onnx")
    torch_model = SentimentModel.load(args.model, backend="torch")
    systems: dict[str, System] = {
        f"{onnx_model.version} onnx-int8 (default)": model_system(onnx_model),
        f"{torch_model.version} torch-fp32": model_system(torch_model),
        "VADER 3.3 (compound ±0.05)": vader_system(),
    }
    datasets = [
        ("TweetEval val (3-class)", data.tweeteval("val"), False),
        ("SST-2 dev (binary: neg vs pos)", data.sst2("dev"), True),
    ]
    rows: list[dict[str, str]] = []
    accuracy: dict[tuple[str, str], float] = {}
    agreement: dict[str, float] = {}
    for ds_name, ds, binary in datasets:
        outputs = {}
        for sys_name, system in systems.items():
            pred = system(ds.texts)
            outputs[sys_name] = pred
            scores = (
                report(ds.labels, pred.binary, classes=(NEG, POS))
                if binary
                else report(ds.labels, pred.three_class)
            )
            accuracy[(ds_name, sys_name)] = scores["accuracy"]
            rows.append(
                {
                    "dataset": ds_name,
                    "system": sys_name,
                    "n": str(len(ds)),
                    "macro-recall": f"{scores['macro_recall']:.4f}",
                    "macro-F1": f"{scores['macro_f1']:.4f}",
                    "accuracy": f"{scores['accuracy']:.4f}",
                    "neg recall": f"{scores['neg_recall']:.4f}",
                    "neg precision": f"{scores['neg_precision']:.4f}",
                    "neutral %": f"{100 * float(np.mean(pred.three_class == NEU)):.1f}",
                }
            )
        onnx_pred, torch_pred = list(outputs.values())[:2]
        agreement[ds_name] = float(np.mean(onnx_pred.three_class == torch_pred.three_class))

    onnx_name, torch_name = list(systems)[:2]
    notes = [
        "SST-2 rows: binary decision (argmax over negative/positive); neutral is not an option there.",
        "int8 vs fp32 (accuracy points, int8 minus fp32; 3-class label agreement):",
    ]
    for ds_name, _, _ in datasets:
        delta = 100 * (accuracy[(ds_name, onnx_name)] - accuracy[(ds_name, torch_name)])
        notes.append(f"  {ds_name}: {delta:+.2f} points, agreement {100 * agreement[ds_name]:.1f}%")
    text = table(rows) + "\n\n" + "\n".join(notes) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    main()
