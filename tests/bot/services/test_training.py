"""Train and register a model, and score one, in-process on a real (tiny) training run and the demo model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.model_versions import list_models
from bot.services.training import evaluate_model, train_model
from bot.settings import Settings
from tests.bot.services.conftest import INTENTS, write_intents
from training.registry import ModelRegistry

ROOT = Path(__file__).resolve().parents[3]


def test_a_model_trained_into_the_registry_is_catalogued_and_made_current(empty_settings: Settings) -> None:
    data = write_intents(empty_settings.data_dir / "intents.csv", INTENTS)

    trained = train_model(empty_settings, data, epochs=1, progress=False)

    assert trained.registered and trained.path.parent == empty_settings.models_dir
    assert ModelRegistry(empty_settings.models_dir).current() == trained.path
    assert trained.metrics["epochs_run"] == 1
    assert list(trained.to_dict())[:2] == ["model", "version"]
    assert trained.to_dict()["version"] == trained.version
    catalog = list_models(empty_settings)
    (row,) = catalog.versions
    assert catalog.production == trained.version == row["version"]
    assert row["status"] == "production" and row["trained_from"] == "base"
    assert row["decision"]["reasons"] == ["trained from intents.csv and made current"]


def test_a_model_trained_into_a_folder_is_not_registered(empty_settings: Settings, tmp_path: Path) -> None:
    data = write_intents(tmp_path / "intents.csv", INTENTS)
    trained = train_model(empty_settings, data, out=tmp_path / "model", epochs=1, progress=False)
    assert not trained.registered and (trained.path / "config.json").is_file()
    assert ModelRegistry(empty_settings.models_dir).current() is None
    assert list_models(empty_settings).versions == []


def test_a_bad_training_file_fails_before_any_training(empty_settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,intent\nhello,greeting\n,farewell\n")
    with pytest.raises(ValueError, match=r"bad\.csv line 3"):
        train_model(empty_settings, bad, epochs=1, progress=False)
    assert not empty_settings.models_dir.exists() or not list(empty_settings.models_dir.iterdir())


def test_evaluate_model_scores_the_demo_model(settings: Settings, demo_model_dir: Path) -> None:
    figures = evaluate_model(settings, demo_model_dir, ROOT / "demo" / "intents_eval.csv")
    assert figures["n"] >= 120 and figures["accuracy"] >= 0.8
    assert {"macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision"} <= figures.keys()


def test_evaluate_model_names_a_missing_model(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        evaluate_model(settings, tmp_path / "nope", ROOT / "demo" / "intents_eval.csv")
