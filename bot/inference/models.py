"""The models a turn uses, served together: load them from settings, check a classifier before it serves."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from bot.inference.backends import choose_backend, load_classifier_on, load_encoder_on, thread_split
from bot.inference.batched import BatchedClassifier, BatchedEncoder
from bot.settings import Settings
from core.batching import BatchWorker
from core.encoder import resolve_device
from core.sentence_encoder import TextEncoder
from retrieval.store import FaqRetriever, FaqStore
from training.model import Classifier, ModelNotFound, Prediction
from training.registry import ModelRegistry

log = logging.getLogger(__name__)

CPU_BATCH, GPU_BATCH = 4, 64  # the default most messages in one model call (``max_batch``)


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
    worker: BatchWorker | None = None  # the micro-batching worker both run on, when served by a server


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


def load_classifier(path: Path, settings: Settings) -> Classifier:
    """Load a model folder on the settings' backend and check that it answers, before any customer sees it."""
    classifier = load_classifier_on(path, choose_backend(settings))
    prediction = classifier.predict(["hello"])[0]
    if prediction.intent not in classifier.labels or not 0.0 <= prediction.confidence <= 1.0:
        raise ModelLoadFailed(f"model {path.name} gave a nonsensical prediction {prediction}")
    return classifier


def on_worker(classifier: Classifier, worker: BatchWorker | None) -> IntentModel:
    """The classifier as served: behind the worker's micro-batches when there is one."""
    if worker is None:
        return classifier
    return BatchedClassifier(classifier, worker)


def max_batch(settings: Settings) -> int:
    """``inference_max_batch``, else by device. On a CPU a pass costs more per text in big batches: their
    activations no longer fit the cache (int8 encoder, one thread: 3.0 ms a text in twos, 3.4 in fours, 4.0 in
    eights, 7.8 in batches of 64), so small batches win; a GPU wants them large."""
    if settings.inference_max_batch is not None:
        return settings.inference_max_batch
    return GPU_BATCH if resolve_device(settings.device).type == "cuda" else CPU_BATCH


def start_worker(settings: Settings) -> BatchWorker:
    """The inference worker the settings ask for: the two models' calls side by side, on their share of the
    settings' threads each (``thread_split``)."""
    calls, threads = thread_split(settings)
    return BatchWorker(max_batch(settings), settings.inference_wait_ms / 1000, "helpline-inference",
                       on_start=lambda: torch.set_num_threads(threads), threads=calls)


def load_models(settings: Settings, worker: BatchWorker | None = None) -> Models:
    """The encoder, the stored FAQ index and the classifier to serve, on ``worker`` when given (blocking)."""
    backend = choose_backend(settings)
    log.info("models run on %s", backend)
    encoder: TextEncoder = load_encoder_on(settings, backend)
    if worker is not None:
        encoder = BatchedEncoder(encoder, worker)
    retriever = FaqStore(settings.faq_dir, encoder).load()
    classifier = load_classifier_on(classifier_path(settings), backend)
    return Models(classifier=on_worker(classifier, worker), retriever=retriever, worker=worker)
