"""The dev probe: written by the training side, read by the product, scored as corpus.dev_report scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.training import corpus, data
from monitor.learn.dev_check import DevProbe, read_probe, write_probe


def random_probe(seed: int) -> tuple[DevProbe, dict[str, data.Dataset]]:
    rng = np.random.default_rng(seed)
    log_p, labels, dev = {}, {}, {}
    for item in corpus.SOURCES:
        n = int(rng.integers(30, 80))
        y = rng.choice([0, 2] if item.binary else [0, 1, 2], size=n).tolist()
        log_p[item.name] = rng.normal(0, 1, (n, 3))
        labels[item.name] = y
        dev[item.name] = data.Dataset(item.name, [""] * n, y)
    domains = {s.name: s.domain for s in corpus.SOURCES}
    return DevProbe(log_p, labels, domains, frozenset(s.name for s in corpus.SOURCES if s.binary)), dev


def test_the_probe_scores_as_the_dev_report_does(tmp_path: Path) -> None:
    for seed in range(3):
        probe, dev = random_probe(seed)
        for offsets in ((0.0, 0.0, 0.0), (0.7, 0.0, -0.3)):
            shifted = {n: (x + np.array(offsets)).astype(np.float32) for n, x in probe.log_p.items()}
            assert abs(probe.score(offsets) - corpus.dev_report(dev, shifted)["dev_score"]) < 1e-6
        write_probe(tmp_path / "p.npz", probe)
        again = read_probe(tmp_path / "p.npz")
        assert (
            again.labels == probe.labels and again.domains == probe.domains and again.binary == probe.binary
        )
        assert again.score((0.3, 0.0, 0.1)) == probe.score((0.3, 0.0, 0.1))
