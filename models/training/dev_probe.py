"""Write a model's dev probe: its log-probabilities and the gold labels on every dev split, for the
multi-domain check of `grumble learn` (monitor/learn/dev_check.py), which reads it from the model cache.

    python -m models.training.dev_probe [--model DIR] [--data-dir DIR]

About 20-40 s for the bundled model on two cores. The file holds labels derived from the labelled sets,
so it stays in the (gitignored) model cache, never in the repository.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

from models.bundle import DEFAULT_MODEL_DIR
from models.sentiment import log_probabilities
from models.training import corpus, data
from models.training.dev_splits import dev_only
from monitor.learn.dev_check import DevProbe, probe_file, write_probe
from monitor.learn.offsets import Array


def build(model_dir: Path, data_dir: Path = data.DATA_DIR, backend: str = "auto") -> tuple[str, DevProbe]:
    """(the model's version, its probe), on the dev splits the model was trained with."""
    from models import SentimentModel

    model = SentimentModel.load(model_dir, backend=backend)
    meta_path = model_dir / "grumble.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    seed = int(meta.get("training", {}).get("split_seed", 13))
    dev = dev_only(data_dir, seed)
    return model.version, probe_of(
        {name: log_probabilities(model.predict(ds.texts)) for name, ds in dev.items()}, dev
    )


def probe_of(log_p: Mapping[str, Array], dev: Mapping[str, data.Dataset]) -> DevProbe:
    """A model's probe from its log-probabilities on dev splits (by set name) and those splits."""
    return DevProbe(
        dict(log_p),
        {name: list(dev[name].labels) for name in log_p},
        {name: corpus.source(name).domain for name in log_p},
        frozenset(name for name in log_p if corpus.source(name).binary),
    )


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--data-dir", type=Path, default=data.DATA_DIR)
    args = parser.parse_args(argv)
    version, probe = build(args.model, args.data_dir)
    path = probe_file(version)
    write_probe(path, probe)
    print(f"dev probe of {version} written to {path}: dev score {probe.score((0.0, 0.0, 0.0)):.4f}")
    return path


if __name__ == "__main__":
    main()
