"""Classification metrics over label arrays, in numpy (no scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def accuracy(gold: Sequence[str] | np.ndarray, pred: Sequence[str] | np.ndarray) -> float:
    """Share of predictions equal to the gold label (0.0 for no rows)."""
    gold_arr, pred_arr = np.asarray(gold), np.asarray(pred)
    if gold_arr.shape != pred_arr.shape:
        raise ValueError(f"gold and pred differ in length: {gold_arr.shape} vs {pred_arr.shape}")
    return float((gold_arr == pred_arr).mean()) if gold_arr.size else 0.0


def precision_recall_f1(
    gold: Sequence[str] | np.ndarray, pred: Sequence[str] | np.ndarray, label: str
) -> tuple[float, float, float]:
    """Precision, recall and F1 of one label (0.0 where undefined)."""
    gold_arr, pred_arr = np.asarray(gold), np.asarray(pred)
    true_pos = float(np.sum((gold_arr == label) & (pred_arr == label)))
    predicted = float(np.sum(pred_arr == label))
    actual = float(np.sum(gold_arr == label))
    precision = true_pos / predicted if predicted else 0.0
    recall = true_pos / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def macro_f1(
    gold: Sequence[str] | np.ndarray, pred: Sequence[str] | np.ndarray, labels: Sequence[str] | None = None
) -> float:
    """Unweighted mean F1 over ``labels`` (default: every label in gold or pred, like scikit-learn)."""
    gold_arr, pred_arr = np.asarray(gold), np.asarray(pred)
    if gold_arr.shape != pred_arr.shape:
        raise ValueError(f"gold and pred differ in length: {gold_arr.shape} vs {pred_arr.shape}")
    names = list(labels) if labels is not None else sorted(set(gold_arr.tolist()) | set(pred_arr.tolist()))
    if not names:
        return 0.0
    return float(np.mean([precision_recall_f1(gold_arr, pred_arr, name)[2] for name in names]))
