"""Every set's dev split alone, exactly as corpus.load makes it, without reading and deduplicating the
training rows (a few seconds instead of most of a minute): for checks that only score the dev sets."""

from __future__ import annotations

from pathlib import Path

from models.training import corpus, data


def dev_only(
    data_dir: Path = data.DATA_DIR, seed: int = 13, names: list[str] | None = None
) -> dict[str, data.Dataset]:
    out: dict[str, data.Dataset] = {}
    for item in [corpus.source(n) for n in names] if names is not None else corpus.SOURCES:
        if item.name == "tweeteval_sentiment":
            out[item.name] = data.tweeteval("val", data_dir)
        elif item.name == "sst2":
            out[item.name] = data.sample(data.sst2("dev", data_dir), 1000, seed=seed)
        else:
            full = corpus.read_tsv(data_dir / item.name / "data.tsv", item.name)
            out[item.name] = corpus.stratified_split(full, seed)[1]
    return out
