"""The out-of-scope confidence threshold, chosen on held-out predictions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from training.data import is_oos
from training.metrics import macro_f1

OOS = "oos"  # how out-of-scope and below-threshold predictions are scored


def label_predictions(probs: np.ndarray, labels: Sequence[str], threshold: float = 0.0) -> np.ndarray:
    """Top labels of probability rows, out-of-scope labels and rows under ``threshold`` scored as OOS."""
    names = np.array([OOS if is_oos(label) else label for label in labels], dtype=object)
    pred = names[probs.argmax(axis=1)]
    pred[probs.max(axis=1) < threshold] = OOS
    return pred


def choose_threshold(probs: np.ndarray, gold: Sequence[str], labels: Sequence[str], quantile: float) -> float:
    """Confidence threshold: best macro-F1 (below = OOS) with OOS rows, else a quantile of correct confidences."""
    if len(gold) == 0:
        return 0.0
    gold_arr = np.array([OOS if is_oos(label) else label for label in gold], dtype=object)
    confidence = probs.max(axis=1)
    if np.any(gold_arr == OOS):
        candidates = np.unique(np.concatenate([[0.0], np.quantile(confidence, np.linspace(0, 1, 101))]))
        scores = [macro_f1(gold_arr, label_predictions(probs, labels, float(t))) for t in candidates]
        return float(candidates[int(np.argmax(scores))])  # argmax: the lowest of tied thresholds
    correct = label_predictions(probs, labels) == gold_arr
    return float(np.quantile(confidence[correct], quantile)) if correct.any() else 0.0
