from __future__ import annotations

import json

import pytest

from training.args import TrainingArguments


def test_defaults_are_valid_and_serialisable() -> None:
    args = TrainingArguments()
    stored = json.loads(json.dumps(args.to_dict()))
    assert TrainingArguments(**stored) == args
    assert stored["epochs"] == args.epochs and stored["head"] == "cosine"


@pytest.mark.parametrize(
    "bad",
    [
        {"epochs": 0}, {"batch_size": -1}, {"max_length": 1.5}, {"learning_rate": 0.0},
        {"head_learning_rate": -1e-3}, {"warmup_ratio": 1.0}, {"label_smoothing": -0.1},
        {"val_fraction": 1.0}, {"patience": -1}, {"weight_decay": -0.1}, {"head": "mlp"},
    ],
)
def test_invalid_values_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        TrainingArguments(**bad)  # type: ignore[arg-type]
