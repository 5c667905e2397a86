"""Leave-one-domain-out on a tiny budget: five folds trained and scored, a later run continuing where the
last stopped; the calibration judged by held-out domain; dev splits read alone as corpus.load reads them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.training import corpus
from models.training.dev_splits import dev_only
from models.training.lodo import DOMAINS, main
from models.training.lodo_calibration import judge, summary

SETS = {  # one labelled set per domain
    "tweet_sentiment_extraction": "so {w} about the game tonight",
    "sanders_brand_tweets": "@acme your phone is {w}",
    "ethiopian_bank_app_reviews": "the banking app is {w} since the update",
    "amazon_alexa_reviews": "this speaker is {w} for the kitchen",
}
WORDS = {
    "negative": ["awful", "broken", "terrible", "useless", "slow", "buggy", "horrible", "bad"],
    "neutral": ["arriving", "listed", "mentioned", "shipped", "on sale", "in stock", "announced", "here"],
    "positive": ["great", "lovely", "brilliant", "superb", "perfect", "amazing", "excellent", "good"],
}


def write_corpus(root: Path) -> Path:
    for name, template in SETS.items():
        folder = root / name
        folder.mkdir(parents=True)
        rows = [
            f"{template.format(w=w)} {i}\t{label}"
            for label, words in WORDS.items()
            for w in words
            for i in range(5)
        ]
        (folder / "data.tsv").write_text("\n".join(["text\tlabel", *rows]) + "\n", encoding="utf-8")
    sst = root / "sst2"
    sst.mkdir()
    films = [
        f"a {w} film about people {i} that I would watch again with friends\t{int(label == 'positive')}"
        for label in ("negative", "positive")
        for w in WORDS[label]
        for i in range(4)
    ]
    for split, part in (("train", films[::2]), ("dev", films[1::2])):
        (sst / f"{split}.tsv").write_text("\n".join(["sentence\tlabel", *part]) + "\n", encoding="utf-8")
    return root


def test_dev_splits_alone_are_corpus_loads(tmp_path: Path) -> None:
    data_dir = write_corpus(tmp_path / "data")
    names = [*SETS, "sst2"]
    loaded = corpus.load(data_dir, seed=13, names=names).dev
    alone = dev_only(data_dir, seed=13, names=names)
    assert {n: (d.texts, d.labels) for n, d in alone.items()} == {
        n: (d.texts, d.labels) for n, d in loaded.items()
    }


def test_five_folds_run_and_a_later_run_continues(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = write_corpus(tmp_path / "data")
    work = tmp_path / "work"
    argv = [
        "--name", "tiny", "--init", str(tiny_model_dir), "--data-dir", str(data_dir), "--work-dir", str(work),
        "--sets", ",".join([*SETS, "sst2"]), "--max-steps", "2", "--eval-every", "1", "--per-epoch", "40",
        "--batch-size", "8", "--epochs", "1", "--threads", "1", "--device", "cpu",
    ]  # fmt: skip
    text = main(argv)
    results = work / "lodo" / "tiny"
    folds = {d: json.loads((results / f"{d}.json").read_text()) for d in DOMAINS}
    for domain, fold in folds.items():
        assert fold["held_out"] == domain and 0.0 <= fold["held_out_score"] <= 1.0
        assert domain not in fold["in_domain"]  # chosen on the other four domains only
        assert set(fold["in_domain"]) == set(DOMAINS) - {domain}
    mean = np.mean([f["held_out_score"] for f in folds.values()])
    assert f"| {mean:.4f} |" in text and "| 5/5 |" in text

    (results / "app reviews.json").unlink()
    ran: list[str] = []

    def counted(args: object, train_args: object, mix: object, held_out: str) -> dict[str, object]:
        ran.append(held_out)
        return dict(folds[held_out])

    monkeypatch.setattr("models.training.lodo.run_fold", counted)
    main(argv)
    assert ran == ["app reviews"]  # the four finished folds were not trained again


def test_calibration_is_judged_on_the_domain_it_was_not_fitted_to(tmp_path: Path) -> None:
    dev = dev_only(write_corpus(tmp_path / "data"), seed=13, names=[*SETS, "sst2"])
    rng = np.random.default_rng(0)
    # Scores that read every domain right, but with a neutral bias only the tweets do not share.
    logits = {}
    for name, ds in dev.items():
        x = np.eye(3, dtype=np.float32)[ds.labels] * 2 + rng.normal(0, 0.3, (len(ds), 3)).astype(np.float32)
        x[:, 1] += 0.0 if corpus.source(name).domain == "tweets" else 2.5
        logits[name] = x
    shipped = np.array([0.0, 0.0, 0.0], dtype=np.float32)
    rows = judge(dev, logits, shipped)
    assert [r["held_out"] for r in rows] == list(DOMAINS)
    tweets = next(r for r in rows if r["held_out"] == "tweets")
    # Offsets fitted on the four neutral-biased domains undo a bias the tweets do not have.
    assert tweets["fitted_without_it"] < tweets["uncalibrated"]
    assert summary(rows)["fitted_without_it"] > summary(rows)["uncalibrated"]
