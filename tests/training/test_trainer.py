from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.training.conftest import EXAMPLES, tiny_train
from training.data import Example
from training.model import IntentClassifier
from training.trainer import NotEnoughData, TrainResult, linear_schedule

PROBE = ["where is my card", "tell me a joke please", "add money to my account", "I lost my card"]


def test_training_writes_metrics_and_history(tiny_model: TrainResult) -> None:
    metrics = tiny_model.metrics
    assert metrics["epochs_run"] == len(metrics["history"]) == 2
    assert 1 <= metrics["best_epoch"] <= 2
    assert 0.0 <= metrics["val_accuracy"] <= 1.0
    assert json.loads((tiny_model.path / "metrics.json").read_text()) == metrics
    stored_args = json.loads((tiny_model.path / "training_args.json").read_text())
    assert stored_args["seed"] == 7 and stored_args["max_length"] == 32


def test_same_seed_gives_the_same_model(tiny_model: TrainResult, tmp_path: Path) -> None:
    again = tiny_train(tmp_path / "again")
    first, second = IntentClassifier.load(tiny_model.path), IntentClassifier.load(again.path)
    assert torch.equal(first.probabilities(PROBE), second.probabilities(PROBE))
    assert first.threshold == second.threshold
    assert first.metrics["history"] == second.metrics["history"]


def test_refuses_to_overwrite_a_model(tiny_model: TrainResult) -> None:
    with pytest.raises(FileExistsError, match="overwrite"):
        tiny_train(tiny_model.path)


def test_needs_two_intents(tmp_path: Path) -> None:
    with pytest.raises(NotEnoughData):
        tiny_train(tmp_path / "m", [Example("hi", "greeting"), Example("hello", "greeting")])
    assert not (tmp_path / "m").exists()


def test_linear_schedule_warms_up_then_decays() -> None:
    factor = linear_schedule(warmup_steps=2, total_steps=6)
    assert [round(factor(step), 2) for step in range(7)] == [0.5, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]


def test_examples_cover_six_intents() -> None:
    assert len({e.label for e in EXAMPLES}) == 6


def test_without_validation_keeps_the_last_epoch(tmp_path: Path) -> None:
    result = tiny_train(tmp_path / "m", val_fraction=0.0, patience=1)
    assert result.metrics["best_epoch"] == result.metrics["epochs_run"] == 2
    assert result.metrics["val_accuracy"] is None
    assert 0.0 <= result.metrics["threshold"] < 1.0  # chosen on the training rows instead
    assert json.loads((result.path / "config.json").read_text())["data"]["val_examples"] == 0
