"""Score a classifier on labelled examples: accuracy, macro-F1 and, with OOS rows, open-set metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from training.data import Example, is_oos
from training.metrics import accuracy, macro_f1, precision_recall_f1
from training.model import IntentClassifier, Prediction
from training.threshold import OOS  # every out-of-scope label, gold or predicted, is scored as this one


def score(gold_labels: Sequence[str], predictions: Sequence[Prediction]) -> dict[str, Any]:
    """Metrics of predictions against gold labels.

    Closed-set data (no OOS rows) is scored on the raw top intent; data with OOS rows scores every
    prediction that is not in scope (OOS class or below the threshold) as out-of-scope.
    """
    if len(gold_labels) != len(predictions):
        raise ValueError(f"{len(gold_labels)} gold labels for {len(predictions)} predictions")
    gold = np.array([OOS if is_oos(label) else label for label in gold_labels], dtype=object)
    open_set = bool(np.any(gold == OOS))
    pred = np.array(
        [OOS if is_oos(p.intent) or (open_set and not p.in_scope) else p.intent for p in predictions],
        dtype=object,
    )
    result: dict[str, Any] = {
        "accuracy": round(accuracy(gold, pred), 4),
        "macro_f1": round(macro_f1(gold, pred), 4),
        "n": len(gold),
    }
    if open_set:
        in_scope = gold != OOS
        oos_precision, oos_recall, _ = precision_recall_f1(gold, pred, OOS)
        result["in_scope_accuracy"] = round(accuracy(gold[in_scope], pred[in_scope]), 4)
        result["oos_recall"] = round(oos_recall, 4)
        result["oos_precision"] = round(oos_precision, 4)
    else:
        result["below_threshold"] = round(float(np.mean([not p.in_scope for p in predictions])), 4) \
            if predictions else 0.0
    return result


def evaluate(classifier: IntentClassifier, examples: Sequence[Example], batch_size: int = 128) -> dict[str, Any]:
    """Predict every example's text and score the predictions (see `score`)."""
    predictions = classifier.predict([example.text for example in examples], batch_size=batch_size)
    return score([example.label for example in examples], predictions)
