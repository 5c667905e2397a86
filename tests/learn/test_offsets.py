"""Fitting offsets, cross-validating them, and the rule that refuses what does not generalise."""

from __future__ import annotations

import numpy as np
import pytest

from models import Score
from models.sentiment import log_probabilities, shifted
from monitor.learn.decide import decide
from monitor.learn.dev_check import DevCheck
from monitor.learn.offsets import Scores, Target, evaluate, fit
from monitor.learn.validation import CrossValidation, Fold, beats, cross_validate, informative
from tests.learn.conftest import ToneModel, history_rows


def corrections(count: int, seed: int, *, random_labels: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rows = history_rows(count, seed, random_labels=random_labels)
    scores = ToneModel().predict([row["text"] for row in rows])
    log_p = log_probabilities(scores)
    labels = np.array([("negative", "neutral", "positive").index(row["label"]) for row in rows])
    return log_p, labels


def test_the_fit_undoes_the_models_bias_toward_neutral() -> None:
    log_p, labels = corrections(400, seed=1)
    offsets = fit(log_p, labels, Target())
    assert 0.3 <= offsets[0] <= 0.9 and 0.3 <= offsets[2] <= 0.9 and offsets[1] == 0.0
    before, after = evaluate(log_p, labels, (0, 0, 0)), evaluate(log_p, labels, offsets)
    assert after.neg_recall > before.neg_recall + 0.2
    assert after.macro_f1 > before.macro_f1 + 0.1


def test_a_complaint_target_is_met_at_the_precision_it_costs() -> None:
    log_p, labels = corrections(400, seed=2)
    best_f1 = evaluate(log_p, labels, fit(log_p, labels, Target()))
    strict = evaluate(log_p, labels, fit(log_p, labels, Target(min_recall=0.97)))
    assert strict.neg_recall >= 0.97 > best_f1.neg_recall
    assert strict.neg_precision < best_f1.neg_precision


def test_the_default_target_does_not_trade_away_the_complaints_caught_now() -> None:
    log_p, labels = corrections(400, seed=11)
    eager = (1.5, 0.0, 0.0)  # a calibration that calls nearly everything a complaint
    now = evaluate(log_p, labels, eager)
    unguarded = evaluate(log_p, labels, fit(log_p, labels, Target()))
    assert unguarded.neg_recall < now.neg_recall - 0.1  # macro-F1 alone buys precision with complaints

    target = Target(max_drop=0.05)
    assert target.name == "macro-f1" and target.floor(now) == now.neg_recall - 0.05
    guarded = evaluate(log_p, labels, fit(log_p, labels, target, now))
    assert guarded.neg_recall >= now.neg_recall - 0.05
    assert guarded.macro_f1 > now.macro_f1 + 0.1  # and still the best macro-F1 above the floor

    assert Target(0.9, max_drop=0.05).floor(now) == 0.9  # the team's own target stands
    assert Target(max_drop=1.0).floor(now) is None  # max_recall_drop = 1: no floor
    assert Target(max_drop=0.05).floor(evaluate(log_p, labels, (-3.0, 0.0, 0.0))) is None  # none caught
    with pytest.raises(ValueError, match="needs the current calibration's scores"):
        fit(log_p, labels, target)


def test_what_catches_fewer_complaints_on_held_back_folds_is_refused() -> None:
    now = Scores(neg_recall=0.90, neg_precision=0.50, macro_f1=0.50)
    kept = Scores(neg_recall=0.86, neg_precision=0.60, macro_f1=0.60)  # 4 points fewer: within 5
    traded = Scores(neg_recall=0.70, neg_precision=0.80, macro_f1=0.65)  # 20 points fewer
    unlucky = Scores(neg_recall=0.84, neg_precision=0.60, macro_f1=0.61)  # 6 fewer on one fold
    steady = [Fold(now, kept), Fold(now, unlucky), Fold(now, kept)]  # 4.7 fewer on average
    accepted, reason = beats(CrossValidation(steady, Target(max_drop=0.05)))
    assert accepted, reason

    greedy = [Fold(now, traded), Fold(now, kept), Fold(now, traded)]
    accepted, reason = beats(CrossValidation(greedy, Target(max_drop=0.05)))
    assert not accepted and "catches 15 ± 5 points fewer complaints than now" in reason
    assert "[learn] max_recall_drop" in reason
    assert not beats(CrossValidation([Fold(now, unlucky)] * 3, Target(max_drop=0.05)))[0]  # 6, every fold
    assert beats(CrossValidation(greedy, Target(max_drop=1.0)))[0]  # no floor: the best macro-F1 alone
    assert beats(CrossValidation(greedy, Target()))[0]

    log_p, labels = corrections(300, seed=13)
    eager = (1.5, 0.0, 0.0)  # calls nearly everything a complaint: the fit keeps most of them
    accepted, reason = beats(cross_validate(log_p, labels, eager, Target(max_drop=0.05), folds=5))
    assert accepted, reason


def test_offsets_that_generalise_are_accepted_and_random_labels_are_refused() -> None:
    log_p, labels = corrections(300, seed=3)
    cv = cross_validate(log_p, labels, (0.0, 0.0, 0.0), Target(), folds=5)
    accepted, reason = beats(cv)
    assert accepted, reason
    summary = cv.summary()
    assert summary["after"]["neg_recall"]["mean"] > summary["before"]["neg_recall"]["mean"]
    assert summary["before"]["macro_f1"]["spread"] >= 0.0

    assert informative(log_p, labels)[0]


def test_random_labels_are_refused_as_noise() -> None:
    for seed in (4, 5, 6):
        noise, random_labels = corrections(300, seed=seed, random_labels=True)
        ok, why = informative(noise, random_labels)
        assert not ok and "no better than chance" in why, why


def test_a_calibration_already_as_good_is_not_replaced() -> None:
    log_p, labels = corrections(300, seed=7)
    current = fit(log_p, labels, Target())
    accepted, reason = beats(cross_validate(log_p, labels, current, Target(), folds=5))
    assert not accepted, reason


def test_shifting_a_score_moves_its_probabilities_and_label_as_the_offsets_say() -> None:
    score = Score("neutral", 0.3, 0.5, 0.2, "en")
    moved = shifted(score, (1.0, 0.0, 0.0))
    assert moved.label == "negative" and moved.language == "en"
    assert abs(moved.negative + moved.neutral + moved.positive - 1.0) < 1e-9
    assert abs(moved.negative / moved.neutral - np.e * 0.3 / 0.5) < 1e-9
    assert shifted(Score("neutral", 0.0, 1.0, 0.0), (1.0, 0.0, 1.0)).label == "neutral"  # empty text


def test_corrections_of_one_class_are_refused_not_fitted() -> None:
    log_p, _ = corrections(40, seed=9)
    verdict = decide(log_p, np.zeros(40, dtype=np.int64), (0.0, 0.0, 0.0), Target(), folds=5)
    assert not verdict.accepted and "no negative or positive label" in verdict.reason


def test_log_probabilities_keep_a_zero_probability_finite_and_follow_the_label_order() -> None:
    log_p = log_probabilities([Score("positive", 0.0, 0.25, 0.75)])
    assert log_p.shape == (1, 3) and np.isfinite(log_p).all()
    assert np.allclose(log_p[0, 1:], np.log([0.25, 0.75]))
    assert log_probabilities([]).shape == (0, 3)


def test_the_dev_check_refuses_a_loss_of_more_than_the_allowed_points_and_says_so() -> None:
    assert DevCheck(0.70, 0.695).refusal(0.01) is None
    refused = str(DevCheck(0.70, 0.68).refusal(0.01))
    assert "cost the multi-domain dev set 2.0 points (0.700 -> 0.680; at most 1 allowed" in refused
    assert DevCheck(0.70, 0.68).refusal(0.03) is None
    assert DevCheck(0.70123, 0.68).as_report() == {"ran": True, "before": 0.7012, "after": 0.68}
