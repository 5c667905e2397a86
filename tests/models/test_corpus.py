"""The multi-domain mix: dev splits kept out of training, duplicates merged, no set drowned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.labels import NEG, NEU, POS
from models.training import corpus, data
from models.training.calibration import GRID, MAX_DOMAIN_LOSS, _grid_scores, fit_offsets


def dataset(name: str, rows: list[tuple[str, int]]) -> data.Dataset:
    return data.Dataset(name, [t for t, _ in rows], [y for _, y in rows])


def test_stratified_split_is_seeded_and_keeps_every_class() -> None:
    rows = [(f"text {i}", [NEG, NEU, POS][i % 3] if i < 900 else NEG) for i in range(1000)]
    ds = dataset("threads_app_reviews", rows)
    train, dev = corpus.stratified_split(ds, seed=13)
    again_train, again_dev = corpus.stratified_split(ds, seed=13)
    assert dev.texts == again_dev.texts and train.texts == again_train.texts
    assert corpus.stratified_split(ds, seed=14)[1].texts != dev.texts
    assert set(train.texts).isdisjoint(dev.texts) and len(train) + len(dev) == len(ds)
    assert {NEG, NEU, POS} <= set(dev.labels)
    share = {c: dev.labels.count(c) / ds.labels.count(c) for c in (NEG, NEU, POS)}
    assert all(abs(s - corpus.DEV_FRACTION) < 0.02 for s in share.values())


def test_dedupe_drops_dev_texts_repeats_and_conflicts() -> None:
    train = {
        "threads_app_reviews": dataset(
            "threads_app_reviews",
            [("good app", POS), ("Crashes daily", NEG), ("meh", NEU), ("seen in dev", NEG)],
        ),
        "ethiopian_bank_app_reviews": dataset(
            "ethiopian_bank_app_reviews", [("Good  App", POS), ("meh", POS), ("slow transfers", NEG)]
        ),
    }
    dev = {"threads_app_reviews": dataset("threads_app_reviews", [("Seen in dev", NEG)])}
    out = corpus.dedupe(train, dev)
    assert out["threads_app_reviews"].texts == ["good app", "Crashes daily"]
    assert out["ethiopian_bank_app_reviews"].texts == ["slow transfers"]


def test_quota_follows_the_square_root_of_size_and_never_repeats_a_set() -> None:
    sizes = {"tweeteval_sentiment": 40_000, "sanders_brand_tweets": 2_500, "amazon_alexa_reviews": 400}
    mix = corpus.Corpus(
        train={n: dataset(n, [(f"{n} {i}", i % 3) for i in range(k)]) for n, k in sizes.items()}, dev={}
    )
    quota = corpus.epoch_quota(mix, 10_000)
    assert quota["amazon_alexa_reviews"] == 400  # capped at its size; the rest goes to the others
    assert sum(quota.values()) == pytest.approx(10_000, abs=2)
    assert quota["tweeteval_sentiment"] / quota["sanders_brand_tweets"] == pytest.approx(4.0, rel=0.01)
    epoch = corpus.epoch_mix(mix, quota, seed=1)
    assert len(epoch) == sum(quota.values()) and len(set(epoch.texts)) == len(epoch)


def test_dev_score_weighs_domains_not_rows() -> None:
    dev = {
        "tweeteval_sentiment": dataset("tweeteval_sentiment", [("a", NEG), ("b", NEU), ("c", POS)] * 100),
        "sst2": dataset("sst2", [("d", NEG), ("e", POS)]),
    }
    perfect_tweets = np.eye(3, dtype=np.float32)[dev["tweeteval_sentiment"].labels]
    wrong_films = np.array([[0, 0, 1], [1, 0, 0]], dtype=np.float32)
    report = corpus.dev_report(dev, {"tweeteval_sentiment": perfect_tweets, "sst2": wrong_films})
    assert report["domains"] == {"tweets": 1.0, "film reviews": 0.0}
    assert report["dev_score"] == 0.5


def test_calibration_never_buys_the_mean_with_one_domain() -> None:
    rng = np.random.default_rng(0)
    labels = [NEG, NEU, POS] * 200
    # Tweets: calibrated already. Brand tweets: negatives read as neutral, so a big negative
    # offset would lift the mean while costing tweets their neutral recall.
    tweets = np.eye(3, dtype=np.float32)[labels] * 2 + rng.normal(0, 0.8, (600, 3)).astype(np.float32)
    brands = np.eye(3, dtype=np.float32)[[NEU if y == NEG else y for y in labels]] * 2
    brands += rng.normal(0, 0.8, (600, 3)).astype(np.float32)
    dev = {
        "tweeteval_sentiment": dataset("tweeteval_sentiment", [(str(i), y) for i, y in enumerate(labels)]),
        "sanders_brand_tweets": dataset("sanders_brand_tweets", [(str(i), y) for i, y in enumerate(labels)]),
    }
    logits = {"tweeteval_sentiment": tweets, "sanders_brand_tweets": brands}
    offsets = fit_offsets(dev, logits)
    before = corpus.dev_report(dev, logits)["domains"]
    after = corpus.dev_report(dev, {n: x + offsets for n, x in logits.items()})["domains"]
    assert after["tweets"] >= before["tweets"] - MAX_DOMAIN_LOSS
    assert after["brand tweets"] >= before["brand tweets"]


def test_the_whole_grid_at_once_scores_as_one_report_per_candidate() -> None:
    """fit_offsets scores all 3,721 candidates with array operations; each must equal dev_report."""
    rng = np.random.default_rng(7)
    labels = [NEG, NEU, POS] * 40
    film = [NEG, POS] * 30
    dev = {
        "tweeteval_sentiment": dataset("tweeteval_sentiment", [(str(i), y) for i, y in enumerate(labels)]),
        "sanders_brand_tweets": dataset("sanders_brand_tweets", [(str(i), y) for i, y in enumerate(labels)]),
        "sst2": dataset("sst2", [(str(i), y) for i, y in enumerate(film)]),
    }
    logits = {
        name: (np.eye(3, dtype=np.float32)[ds.labels] + rng.normal(0, 1.0, (len(ds), 3))).astype(np.float32)
        for name, ds in dev.items()
    }
    candidates = np.array([[neg, 0.0, pos] for neg in GRID for pos in GRID], dtype=np.float32)
    grid = _grid_scores(dev, logits, candidates, chunk=100)
    for k in [*range(0, len(candidates), 97), len(candidates) - 1]:
        one = corpus.dev_report(dev, {name: x + candidates[k] for name, x in logits.items()})
        assert grid.dev_score[k] == one["dev_score"]
        assert grid.neg_recall[k] == one["neg_recall"]
        assert {d: values[k] for d, values in grid.domains.items()} == one["domains"]


def test_read_tsv_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "data.tsv"
    path.write_text("text\tlabel\nfine\tpositive\nbroken line\tangry\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3: expected text<TAB>negative\|neutral\|positive"):
        corpus.read_tsv(path, "x")
    path.write_text("sentence\tlabel\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        corpus.read_tsv(path, "x")
