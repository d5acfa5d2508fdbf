"""Set up a company in-process: replies and seed data copied, FAQ indexed, a first model trained only when needed."""

from __future__ import annotations

import json
from pathlib import Path

from bot.services.model_versions import list_models
from bot.services.setup import TRAINING_NOTE, set_up_company
from bot.settings import Settings
from core.sentence_encoder import SentenceEncoder
from tests.bot.services.conftest import EVAL
from training.registry import ModelRegistry


def test_setup_prepares_an_empty_data_dir_then_changes_nothing_the_second_time(
        empty_settings: Settings, company: Path, encoder: SentenceEncoder) -> None:
    notes: list[str] = []
    done = set_up_company(empty_settings, company, epochs=1, progress=False, encoder=encoder, note=notes.append)

    assert notes == [TRAINING_NOTE]
    data_dir = empty_settings.data_dir
    assert json.loads((data_dir / "company.json").read_text()) == {"name": "Acme"}
    for name in ("intents.csv", "intents_eval.csv"):  # what a later retrain starts from
        assert (empty_settings.seed_dir / name).read_text() == (company / name).read_text()
    assert done.faq is not None and done.faq.count == 2 and done.faq.categories == ["shipping"]
    assert done.model is not None and done.model.registered
    assert ModelRegistry(empty_settings.models_dir).current() == done.model.path
    assert list_models(empty_settings).production == done.model.version == done.served_model
    assert done.evaluation is not None and done.evaluation["n"] == sum(len(texts) for texts in EVAL.values())
    printed = done.to_dict()
    assert list(printed) == ["data_dir", "faq", "model"]
    assert printed["faq"] == {"ingested": 2, "version": done.faq.version}
    assert printed["model"]["version"] == done.model.version and printed["model"]["eval"] == done.evaluation
    assert list(printed["model"])[-1] == "eval"

    again = set_up_company(empty_settings, company, epochs=1, progress=False, encoder=encoder, note=notes.append)

    assert notes == [TRAINING_NOTE]  # no second training
    assert again.faq is None and again.model is None and again.evaluation is None
    assert again.to_dict() == {"data_dir": str(data_dir), "faq": {"unchanged": done.faq.version},
                               "model": {"unchanged": done.model.version}}


def test_setup_keeps_a_served_model_and_reindexes_a_changed_faq(
        served_settings: Settings, company: Path, encoder: SentenceEncoder) -> None:
    served = ModelRegistry(served_settings.models_dir).current()
    assert served is not None
    notes: list[str] = []
    done = set_up_company(served_settings, company, progress=False, encoder=encoder, note=notes.append)
    assert notes == [] and done.model is None and done.served_model == served.name
    assert done.faq is not None and done.faq.count == 2  # the demo FAQ is replaced by the company's
    assert ModelRegistry(served_settings.models_dir).current() == served


def test_setup_retrain_trains_over_a_served_model_and_without_eval_data_reports_none(
        served_settings: Settings, company: Path, encoder: SentenceEncoder) -> None:
    served = ModelRegistry(served_settings.models_dir).current()
    (company / "intents_eval.csv").unlink()
    notes: list[str] = []
    done = set_up_company(served_settings, company, epochs=1, retrain=True, progress=False, encoder=encoder,
                          note=notes.append)
    assert notes == [TRAINING_NOTE]
    assert done.model is not None and served is not None and done.model.version != served.name
    assert ModelRegistry(served_settings.models_dir).current() == done.model.path
    assert done.evaluation is None and "eval" not in done.to_dict()["model"]
