"""Judge the calibration choice by leave-one-domain-out, on a model's dev-set scores (cheap: no training).

    python -m models.training.lodo_calibration [--model models/bundled] [--backend onnx] [--out FILE]

The shipped calibration (offsets folded into the classifier bias, `calibration_offsets` in grumble.json)
was fitted on the dev splits of all five domains and judged on those same splits. Here, for each domain in
turn, the offsets are fitted (calibration.fit_offsets, its per-domain constraint included) on the other
four domains' dev splits only and scored on the fifth: the held-out-domain score says what calibrating
buys on a domain it was not fitted to. Three rows per held-out domain: no calibration, the shipped one,
the one fitted without that domain. The uncalibrated scores are the model's minus the shipped offsets
(adding to the bias adds to every logit, and a log-probability is a logit less a per-text constant, which
no decision here depends on).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.bundle import DEFAULT_MODEL_DIR
from models.training import corpus, data
from models.training.calibration import fit_offsets
from models.training.dev_splits import dev_only

Logits = dict[str, npt.NDArray[np.float32]]


def domains_of(dev: Mapping[str, data.Dataset]) -> list[str]:
    return list(dict.fromkeys(corpus.source(name).domain for name in dev))


def _part(mapping: Mapping[str, Any], domain: str, held_out: bool) -> dict[str, Any]:
    return {n: v for n, v in mapping.items() if (corpus.source(n).domain == domain) == held_out}


def judge(
    dev: Mapping[str, data.Dataset], logits: Logits, shipped: npt.NDArray[np.float32]
) -> list[dict[str, Any]]:
    """One row per held-out domain: its dev score uncalibrated, with the shipped offsets, and with
    offsets fitted on the other domains (and those offsets)."""
    uncalibrated = {name: (x - shipped).astype(np.float32) for name, x in logits.items()}
    rows = []
    for domain in domains_of(dev):
        fit_dev, fit_logits = _part(dev, domain, False), _part(uncalibrated, domain, False)
        test_dev, test_logits = _part(dev, domain, True), _part(uncalibrated, domain, True)
        offsets = fit_offsets(fit_dev, fit_logits)

        def score(
            shift: npt.NDArray[np.float32], test_dev: Any = test_dev, test_logits: Any = test_logits
        ) -> float:
            return float(
                corpus.dev_report(test_dev, {n: x + shift for n, x in test_logits.items()})["dev_score"]
            )

        rows.append(
            {
                "held_out": domain,
                "uncalibrated": round(score(np.zeros(3, dtype=np.float32)), 4),
                "shipped": round(score(shipped), 4),
                "fitted_without_it": round(score(offsets), 4),
                "offsets_without_it": [round(float(x), 2) for x in offsets],
            }
        )
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {
        key: round(float(np.mean([r[key] for r in rows])), 4)
        for key in ("uncalibrated", "shipped", "fitted_without_it")
    }


def markdown(rows: list[dict[str, Any]], shipped: npt.NDArray[np.float32]) -> str:
    lines = [
        f"Shipped offsets (negative, neutral, positive): {[round(float(x), 2) for x in shipped]}",
        "",
        "| held-out domain | uncalibrated | shipped calibration | fitted on the other four "
        "| offsets fitted without it |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['held_out']} | {r['uncalibrated']:.4f} | {r['shipped']:.4f} "
            f"| {r['fitted_without_it']:.4f} | {r['offsets_without_it']} |"
        )
    mean = summary(rows)
    lines.append(
        f"| **mean over held-out domains** | **{mean['uncalibrated']:.4f}** | **{mean['shipped']:.4f}** "
        f"| **{mean['fitted_without_it']:.4f}** | |"
    )
    return "\n".join(lines) + "\n"


def model_logits(model_dir: Path, backend: str, dev: Mapping[str, data.Dataset]) -> Logits:
    from models import SentimentModel
    from models.sentiment import log_probabilities

    model = SentimentModel.load(model_dir, backend=backend)
    out: Logits = {}
    for name, ds in dev.items():
        out[name] = log_probabilities(model.predict(ds.texts)).astype(np.float32)
    return out


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    parser.add_argument("--data-dir", type=Path, default=data.DATA_DIR)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    meta = json.loads((args.model / "grumble.json").read_text(encoding="utf-8"))
    shipped = np.asarray(meta.get("calibration_offsets", [0.0, 0.0, 0.0]), dtype=np.float32)
    seed = int(meta.get("training", {}).get("split_seed", 13))
    dev = dev_only(args.data_dir, seed)
    text = markdown(judge(dev, model_logits(args.model, args.backend, dev), shipped), shipped)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    main()
