from __future__ import annotations

import numpy as np
import pytest

from training.threshold import choose_threshold, label_predictions


def test_threshold_without_oos_rows_is_a_quantile_of_correct_confidences() -> None:
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8], [0.55, 0.45]])
    gold = ["a", "a", "b", "b", "b"]  # the last row is wrong and must not count
    assert choose_threshold(probs, gold, ["a", "b"], quantile=0.0) == pytest.approx(0.6)
    assert choose_threshold(probs, gold, ["a", "b"], quantile=0.5) == pytest.approx(0.75)


def test_threshold_with_oos_rows_separates_them() -> None:
    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.1, 0.9], [0.55, 0.45], [0.5, 0.5]])
    gold = ["a", "a", "b", "out_of_scope", "oos"]
    threshold = choose_threshold(probs, gold, ["a", "b"], quantile=0.05)
    assert 0.55 < threshold <= 0.9
    assert list(label_predictions(probs, ["a", "b"], threshold)) == ["a", "a", "b", "oos", "oos"]
