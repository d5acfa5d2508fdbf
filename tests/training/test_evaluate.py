from __future__ import annotations

import pytest

from tests.training.conftest import EXAMPLES
from training.data import Example
from training.evaluate import evaluate, score
from training.model import IntentClassifier, Prediction
from training.trainer import TrainResult


def pred(intent: str, confidence: float = 0.9, in_scope: bool | None = None) -> Prediction:
    scope = intent != "oos" if in_scope is None else in_scope
    return Prediction(intent, confidence, [(intent, confidence)], scope)


def test_closed_set_scores_the_raw_top_intent() -> None:
    gold = ["a", "a", "b", "b"]
    predictions = [pred("a"), pred("a", 0.2, in_scope=False), pred("a"), pred("b")]
    # a: p 2/3 r 1 f1 0.8; b: p 1 r 0.5 f1 2/3
    assert score(gold, predictions) == {
        "accuracy": 0.75, "macro_f1": round((0.8 + 2 / 3) / 2, 4), "n": 4, "below_threshold": 0.25,
    }


def test_open_set_counts_below_threshold_as_out_of_scope() -> None:
    gold = ["a", "a", "b", "oos", "out_of_scope"]
    predictions = [pred("a"), pred("a", 0.2, in_scope=False), pred("b"), pred("oos"), pred("b", 0.3, False)]
    # pred -> a, oos, b, oos, oos; gold -> a, a, b, oos, oos
    result = score(gold, predictions)
    assert result["accuracy"] == 0.8
    assert result["in_scope_accuracy"] == round(2 / 3, 4)
    assert result["oos_recall"] == 1.0
    assert result["oos_precision"] == round(2 / 3, 4)
    # a: p 1 r 0.5 f1 2/3; b: 1; oos: p 2/3 r 1 f1 0.8
    assert result["macro_f1"] == round((2 / 3 + 1 + 0.8) / 3, 4)
    assert result["n"] == 5


def test_score_checks_lengths() -> None:
    with pytest.raises(ValueError):
        score(["a"], [])


def test_evaluate_runs_the_real_classifier(tiny_model: TrainResult) -> None:
    classifier = IntentClassifier.load(tiny_model.path, device="cpu")
    result = evaluate(classifier, EXAMPLES)
    assert result["n"] == len(EXAMPLES)
    assert result["accuracy"] >= 0.9  # it has seen most of these sentences
    assert set(result) == {"accuracy", "macro_f1", "n", "in_scope_accuracy", "oos_recall", "oos_precision"}
    closed = evaluate(classifier, [Example("where is my card", "card_arrival")])
    assert closed["accuracy"] == 1.0 and "oos_recall" not in closed
