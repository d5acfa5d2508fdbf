"""The models a turn uses, served together: load them from settings, check a classifier before it serves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.settings import Settings
from core.sentence_encoder import SentenceEncoder
from retrieval.store import FaqRetriever, FaqStore
from training.model import IntentClassifier, ModelNotFound, Prediction
from training.registry import ModelRegistry


class IntentModel(Protocol):
    """What the engine needs of a classifier; ONNX or micro-batched models can stand in."""

    @property
    def version(self) -> str: ...

    def predict(self, texts: list[str]) -> list[Prediction]: ...


@dataclass(frozen=True)
class Models:
    """The classifier and FAQ retriever served together; swapped as one when a new version loads."""

    classifier: IntentModel
    retriever: FaqRetriever


class ModelLoadFailed(RuntimeError):
    """A promoted model could not be loaded; the one already serving keeps answering."""


def classifier_path(settings: Settings) -> Path:
    """The model folder to serve: the configured one, else the registry's current version."""
    if settings.model_dir is not None:
        return settings.model_dir
    current = ModelRegistry(settings.models_dir).current()
    if current is None:
        raise ModelNotFound(f"no trained model in {settings.models_dir}; run `helpline train` or `helpline setup`")
    return current


def load_classifier(path: Path, device: str | None = None) -> IntentClassifier:
    """Load a model folder and check that it answers, before any customer sees it (blocking)."""
    classifier = IntentClassifier.load(path, device=device)
    prediction = classifier.predict(["hello"])[0]
    if prediction.intent not in classifier.labels or not 0.0 <= prediction.confidence <= 1.0:
        raise ModelLoadFailed(f"model {path.name} gave a nonsensical prediction {prediction}")
    return classifier


def load_models(settings: Settings) -> Models:
    """The encoder, the stored FAQ index and the classifier to serve (blocking)."""
    encoder = SentenceEncoder(settings.encoder_path, device=settings.device)
    retriever = FaqStore(settings.faq_dir, encoder).load()
    classifier = IntentClassifier.load(classifier_path(settings), device=settings.device)
    return Models(classifier=classifier, retriever=retriever)
