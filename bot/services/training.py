"""Train an intent model from a labelled CSV and make it the served version; score a model on a labelled CSV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.learning import catalog
from bot.learning.reloader import notify_replicas
from bot.services.database import transcript_store
from bot.settings import Settings
from core.encoder import default_encoder_path
from training.args import TrainingArguments
from training.data import load_examples
from training.evaluate import evaluate
from training.model import IntentClassifier
from training.registry import ModelRegistry
from training.trainer import train


@dataclass(frozen=True)
class TrainedModel:
    """A model folder written by ``train_model``, with the metrics stored in it."""

    path: Path
    metrics: dict[str, Any]
    registered: bool  # catalogued and made current (a model trained into the registry)

    @property
    def version(self) -> str:
        return self.path.name

    def to_dict(self) -> dict[str, Any]:
        """What `helpline train` prints: the folder, its version and the training metrics."""
        return {"model": str(self.path), "version": self.version, **self.metrics}


def train_model(settings: Settings, data: Path, out: Path | None = None, epochs: int | None = None,
                progress: bool = True) -> TrainedModel:
    """Fine-tune the base encoder on ``data``: into ``out`` when given, else a new registry version made current.

    A version made current gets a catalog row (trained from ``base``) and the replicas are told to load it,
    as `helpline retrain` does for a promoted candidate. ``progress`` shows tqdm bars on standard error.
    """
    examples = load_examples(data)
    overrides: dict[str, Any] = {"device": settings.device}
    if epochs is not None:
        overrides["epochs"] = epochs
    target = out or ModelRegistry(settings.models_dir).new_version_path()
    encoder = settings.encoder_path or default_encoder_path()
    result = train(examples, TrainingArguments(**overrides), encoder, target, progress=progress)
    if out is None:
        register_as_current(settings, result.path.name, data)
    return TrainedModel(result.path, result.metrics, registered=out is None)


def register_as_current(settings: Settings, version: str, data: Path) -> None:
    """Catalogue a registry version trained from the base encoder on ``data`` and serve it (row + CURRENT)."""
    registry = ModelRegistry(settings.models_dir)
    with transcript_store(settings) as store:
        catalog.register_candidate(store, version, trained_from="base", data_summary={"data": data.name})
        catalog.promote(store, registry, version, {"promote": True, "forced": False,
                                                   "reasons": [f"trained from {data.name} and made current"]})
    notify_replicas(settings, "model")


def evaluate_model(settings: Settings, model: Path, data: Path) -> dict[str, Any]:
    """Accuracy, macro-F1, in-scope accuracy and out-of-scope figures of a model folder on a labelled CSV."""
    examples = load_examples(data)  # a bad data file fails before the model loads
    classifier = IntentClassifier.load(model, device=settings.device)
    return evaluate(classifier, examples)
