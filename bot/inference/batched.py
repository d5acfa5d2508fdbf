"""The served models behind the inference worker: same interfaces, each call queued and micro-batched.

Requests carry the model they were made for, so a batch that spans a hot swap runs each request on its
own version: a turn never mixes the old classifier with the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from core.batching import BatchWorker, Lane
from core.sentence_encoder import EncoderFront, TextEncoder
from training.model import Classifier, Prediction

M = TypeVar("M")
R = TypeVar("R")


def by_model(call: Callable[[M, list[str]], Sequence[R]]) -> Callable[[list[tuple[M, str]]], list[R]]:
    """A lane's batch function: the (model, text) requests grouped per model, one call per model."""

    def run(requests: list[tuple[M, str]]) -> list[R]:
        groups: dict[int, list[int]] = {}
        for position, (model, _) in enumerate(requests):
            groups.setdefault(id(model), []).append(position)
        results: list[R | None] = [None] * len(requests)
        for positions in groups.values():
            model = requests[positions[0]][0]
            for position, result in zip(positions, call(model, [requests[p][1] for p in positions]), strict=True):
                results[position] = result
        return results  # type: ignore[return-value]  # every position was filled above

    return run


def _lane(worker: BatchWorker, name: str, run: Callable[[list[tuple[M, str]]], list[R]]) -> Lane[tuple[M, str], R]:
    existing = next((lane for lane in worker.lanes if lane.name == name), None)
    return existing if existing is not None else worker.lane(name, run)


def _predict(classifier: Classifier, texts: list[str]) -> list[Prediction]:
    return classifier.predict(texts)  # whichever backend's predict: torch, ONNX or int8


class BatchedClassifier:
    """An intent classifier whose ``predict`` runs on the inference worker."""

    def __init__(self, classifier: Classifier, worker: BatchWorker) -> None:
        self.classifier = classifier
        self._lane = _lane(worker, "classify", by_model(_predict))

    @property
    def version(self) -> str:
        return self.classifier.version

    @property
    def labels(self) -> list[str]:
        return self.classifier.labels

    def predict(self, texts: list[str]) -> list[Prediction]:
        if isinstance(texts, str):
            raise TypeError("predict takes a sequence of texts, not one string")
        return self._lane.map([(self.classifier, text) for text in texts])


def _encode(encoder: TextEncoder, texts: list[str]) -> list[np.ndarray]:
    return list(encoder.encode(texts))


class BatchedEncoder(EncoderFront):
    """A sentence encoder whose ``encode`` runs on the inference worker."""

    def __init__(self, encoder: TextEncoder, worker: BatchWorker) -> None:
        super().__init__(encoder)
        self._lane = _lane(worker, "encode", by_model(_encode))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_soon(texts)()

    def encode_soon(self, texts: Sequence[str]) -> Callable[[], np.ndarray]:
        """Queue ``texts`` now; the returned function waits for their vectors."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        if not texts:
            return lambda: np.empty((0, self.dim), dtype=np.float32)
        futures = [self._lane.submit((self.encoder, text)) for text in texts]
        return lambda: np.stack([future.result() for future in futures])
