"""Retrain with the gate in-process: a candidate trained (1 epoch, tiny), scored beside production, recorded."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.learning.training_data import SeedDataMissing
from bot.services.database import transcript_store
from bot.services.model_versions import list_models
from bot.services.retraining import HEADLINE, NO_PRODUCTION_NOTE, retrain_with_gate, training_sets
from bot.settings import Settings
from bot.store.transcripts import BotReplyRecord
from bot.workspace import review
from bot.workspace.accounts import Accounts
from tests.bot.services.conftest import EVAL, INTENTS, write_intents
from tests.tiny_models import SWAPPED, train_tiny_model
from training.registry import ModelRegistry

WORDS = ["red", "blue", "green", "small", "large", "birthday", "wedding", "digital", "printed", "family",
         "yearly", "spa"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny real model (1 epoch, 32 tokens) on the seed intents, trained once for this module."""
    registry = ModelRegistry(tmp_path_factory.mktemp("tiny-models"))
    version, _ = train_tiny_model(registry)
    return registry.root / version


def seeded(settings: Settings) -> Settings:
    write_intents(settings.seed_dir / "intents.csv", INTENTS)
    write_intents(settings.seed_dir / "intents_eval.csv", EVAL)
    return settings


@pytest.fixture
def served(empty_settings: Settings, tiny_model: Path) -> Settings:
    """Seed data and the tiny model in production (hard-linked: never written to)."""
    registry = ModelRegistry(empty_settings.models_dir)
    registry.root.mkdir(parents=True)
    shutil.copytree(tiny_model, registry.root / tiny_model.name, copy_function=os.link)
    registry.promote(tiny_model.name)
    return seeded(empty_settings)


def test_a_worse_candidate_is_refused_recorded_and_production_keeps_serving(served: Settings) -> None:
    production = ModelRegistry(served.models_dir).current()
    assert production is not None
    worse = write_intents(served.data_dir / "swapped.csv", INTENTS, rename=SWAPPED)

    done = retrain_with_gate(served, start="base", epochs=1, data=worse, progress=False)

    assert not done.promoted and not done.decision.forced and done.trained_from == "base"
    assert any("drops more than the tolerance" in reason for reason in done.decision.reasons)
    assert done.baseline_metrics is not None and done.baseline_metrics["n"] == done.metrics["n"] == 9
    assert done.report.is_file() and (done.report.parent / "confusion_matrix.png").is_file()
    assert ModelRegistry(served.models_dir).current() == production  # nothing changed for customers
    rows = {row["version"]: row for row in list_models(served).versions}
    assert rows[done.version]["status"] == "rejected"
    assert rows[done.version]["decision"]["reasons"] == done.decision.reasons
    assert rows[done.version]["data_summary"] == done.data_summary == {
        "rows": 24, "data": str(worse), "labels": 3, "eval_rows": 9, "eval_held_out": 0}
    printed = done.to_dict()
    assert printed["promoted"] is False and printed["reasons"] == done.decision.reasons
    assert "per_intent" in done.metrics  # the full figures are kept; only the headline ones are printed
    assert {"accuracy", "macro_f1", "n"} <= set(printed["metrics"]) <= set(HEADLINE)
    assert set(printed["baseline_metrics"]) == set(printed["metrics"])


def test_the_gate_tolerance_is_a_setting(served: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_RETRAIN_TOLERANCE", "1")  # any drop passes
    lenient = Settings(data_dir=served.data_dir, database_url=served.database_url)
    assert lenient.retrain_tolerance == 1
    worse = write_intents(served.data_dir / "swapped.csv", INTENTS, rename=SWAPPED)

    done = retrain_with_gate(lenient, start="base", epochs=1, data=worse, progress=False)

    assert done.promoted and not done.decision.forced
    assert ModelRegistry(served.models_dir).current() == served.models_dir / done.version


def test_without_production_the_first_candidate_starts_from_base_and_is_promoted(empty_settings: Settings) -> None:
    settings = seeded(empty_settings)
    notes: list[str] = []

    done = retrain_with_gate(settings, epochs=1, progress=False, note=notes.append)  # seed data + (empty) logs

    assert notes == [NO_PRODUCTION_NOTE]
    assert done.promoted and done.trained_from == "base" and done.baseline_metrics is None
    assert done.decision.reasons == ["no production model to compare with: the first model is promoted"]
    assert ModelRegistry(settings.models_dir).current() == settings.models_dir / done.version
    assert done.to_dict()["baseline_metrics"] is None
    catalog = list_models(settings)
    assert catalog.production == done.version
    assert catalog.versions[0]["data_summary"]["by_source"]["seed"] == 24


def test_the_training_sets_add_held_out_agent_labels_to_the_seed_evaluation_set(empty_settings: Settings) -> None:
    settings = seeded(empty_settings)
    with transcript_store(settings) as store:
        agent = Accounts(store).add_agent("maya", "correct horse battery").id
        conversation, _ = store.open_conversation()
        for n, word in enumerate(WORDS):  # enough agent labels that some are held out for evaluation
            asked, _ = store.log_turn(conversation, f"can I buy a {word} gift voucher", None,
                                      BotReplyRecord(f"r{n}", "…", "farewell", 0.3, route="fallback"))
            review.label_intent(store, asked, "gift_vouchers", agent)
        train, evaluation, summary = training_sets(settings, store, None)
        given, fixed_eval, given_summary = training_sets(settings, store, settings.seed_dir / "intents.csv")

    held_out = summary["eval_held_out"]
    assert 0 < held_out < 12
    assert len(train) == 24 + 12 - held_out and summary["by_source"]["agent"] == 12 - held_out
    assert len(evaluation) == summary["eval_rows"] == 9 + held_out
    assert sum(e.label == "gift_vouchers" for e in evaluation) == held_out
    assert len(given) == 24 and len(fixed_eval) == 9  # a given file: no logs, no held-out rows
    assert given_summary == {"rows": 24, "data": str(settings.seed_dir / "intents.csv"), "labels": 3,
                             "eval_rows": 9, "eval_held_out": 0}


def test_bad_options_and_a_missing_evaluation_set_fail_before_training(served: Settings) -> None:
    versions = ModelRegistry(served.models_dir).versions()
    with pytest.raises(ValueError, match="tolerance"):
        retrain_with_gate(served, tolerance=-1, progress=False)
    (served.seed_dir / "intents_eval.csv").unlink()
    with pytest.raises(SeedDataMissing, match=r"intents_eval\.csv.*helpline setup"):
        retrain_with_gate(served, progress=False)
    assert ModelRegistry(served.models_dir).versions() == versions
