"""Set up a company in the data dir: its replies, its seed data, its FAQ index and a first model if none is served."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.rasa.assistant import FILES as RASA_FILES
from bot.services.faq import sentence_encoder
from bot.services.training import TrainedModel, evaluate_model, train_model
from bot.settings import Settings
from core.sentence_encoder import TextEncoder
from retrieval.faq import faq_version, load_faq
from retrieval.store import FaqStore, IngestReport
from training.registry import ModelRegistry

SEED_FILES = ("intents.csv", "intents_eval.csv")  # what `helpline retrain` starts from
TRAINING_NOTE = "Training the first intent model (one-off; later starts reuse it)…"


@dataclass(frozen=True)
class CompanySetUp:
    """What ``set_up_company`` did: the FAQ ingested (or already current), the model trained (or kept)."""

    data_dir: Path
    faq: IngestReport | None  # None: the stored FAQ already had the company's entries
    faq_version: str
    model: TrainedModel | None  # None: a model was already served
    served_model: str  # the version served now
    evaluation: dict[str, Any] | None = None  # the new model's figures on the company's intents_eval.csv

    def to_dict(self) -> dict[str, Any]:
        """What `helpline setup` prints."""
        faq = ({"ingested": self.faq.count, "version": self.faq.version} if self.faq is not None
               else {"unchanged": self.faq_version})
        model: dict[str, Any] = {"unchanged": self.served_model} if self.model is None else self.model.to_dict()
        if self.evaluation is not None:
            model["eval"] = self.evaluation
        return {"data_dir": str(self.data_dir), "faq": faq, "model": model}


def set_up_company(
    settings: Settings,
    company: Path,
    epochs: int | None = None,
    retrain: bool = False,
    progress: bool = True,
    encoder: TextEncoder | None = None,
    note: Callable[[str], None] | None = None,
) -> CompanySetUp:
    """Prepare ``company`` (a folder with faq.jsonl, intents.csv, company.json) in the data dir.

    Copies the replies and the seed data, ingests the FAQ unless the stored one has the same entries, and trains
    a first model (made current) when none is served or ``retrain`` asks for one. ``note`` hears what takes long.
    """
    copy_company_files(settings, company)
    store = FaqStore(settings.faq_dir, encoder or sentence_encoder(settings))
    faq_file = company / "faq.jsonl"
    report = None
    if store.version() != faq_version(load_faq(faq_file)):
        report = store.ingest(faq_file)
    faq_served = report.version if report is not None else store.version()
    current = ModelRegistry(settings.models_dir).current()
    if current is not None and not retrain:
        return CompanySetUp(settings.data_dir, report, str(faq_served), None, current.name)
    if note is not None:
        note(TRAINING_NOTE)
    model = train_model(settings, company / "intents.csv", epochs=epochs, progress=progress)
    eval_file = company / "intents_eval.csv"
    evaluation = evaluate_model(settings, model.path, eval_file) if eval_file.exists() else None
    return CompanySetUp(settings.data_dir, report, str(faq_served), model, model.version, evaluation)


def copy_company_files(settings: Settings, company: Path) -> None:
    """The company's replies into the data dir, its Rasa files (domain, rules, endpoints, entities) into the
    Rasa dir and its seed training data into the seed dir (those present)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if (company / "company.json").exists():
        shutil.copyfile(company / "company.json", settings.data_dir / "company.json")
    settings.rasa_dir.mkdir(parents=True, exist_ok=True)
    for name in RASA_FILES:  # a company set up again without one must not keep the old company's
        target = settings.rasa_dir / name
        if (company / name).exists():
            shutil.copyfile(company / name, target)
        else:
            target.unlink(missing_ok=True)
    settings.seed_dir.mkdir(parents=True, exist_ok=True)
    for name in SEED_FILES:
        if (company / name).exists():
            shutil.copyfile(company / name, settings.seed_dir / name)
