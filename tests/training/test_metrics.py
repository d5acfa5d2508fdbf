from __future__ import annotations

import numpy as np
import pytest

from training.metrics import accuracy, macro_f1, precision_recall_f1

GOLD = np.array(["a", "a", "a", "b", "b", "c"])
PRED = np.array(["a", "a", "b", "b", "c", "c"])


def test_accuracy() -> None:
    assert accuracy(GOLD, PRED) == pytest.approx(4 / 6)
    assert accuracy([], []) == 0.0
    with pytest.raises(ValueError):
        accuracy(["a"], ["a", "b"])


def test_per_label_scores() -> None:
    # a: tp 2, predicted 2, actual 3 -> p 1, r 2/3, f1 0.8
    assert precision_recall_f1(GOLD, PRED, "a") == pytest.approx((1.0, 2 / 3, 0.8))
    # b: tp 1, predicted 2, actual 2 -> p 0.5, r 0.5
    assert precision_recall_f1(GOLD, PRED, "b") == pytest.approx((0.5, 0.5, 0.5))
    assert precision_recall_f1(GOLD, PRED, "z") == (0.0, 0.0, 0.0)


def test_macro_f1_averages_over_gold_and_predicted_labels() -> None:
    # c: tp 1, predicted 2, actual 1 -> p 0.5, r 1, f1 2/3
    assert macro_f1(GOLD, PRED) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    # a label only predicted counts with F1 0, like scikit-learn
    assert macro_f1(["a", "a"], ["a", "x"]) == pytest.approx((2 / 3 + 0.0) / 2)
    assert macro_f1(GOLD, PRED, labels=["a"]) == pytest.approx(0.8)
    assert macro_f1(GOLD, GOLD) == 1.0
