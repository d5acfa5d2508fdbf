"""The served models behind the worker answer exactly as the models themselves, from many threads at once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bot.inference.batched import BatchedClassifier, BatchedEncoder, by_model
from core.batching import BatchWorker
from core.sentence_encoder import SentenceEncoder
from training.model import IntentClassifier

QUESTIONS = ["Do you ship to Norway?", "hi", "I want my money back", "where is my parcel", "bye",
             "can I pay with PayPal?", "talk to a human please", "what are your opening hours"]


@pytest.fixture
def worker() -> Iterator[BatchWorker]:
    running = BatchWorker(max_batch=8, max_wait_s=0.01)
    yield running
    running.close()


@pytest.fixture(scope="module")
def classifier(demo_model_dir: Path) -> IntentClassifier:
    return IntentClassifier.load(demo_model_dir, device="cpu")


def test_batched_predictions_match_the_classifiers_own(classifier: IntentClassifier,
                                                       worker: BatchWorker) -> None:
    batched = BatchedClassifier(classifier, worker)
    expected = {text: classifier.predict([text])[0] for text in QUESTIONS}
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda text: (text, batched.predict([text])[0]), QUESTIONS * 6))
    for text, prediction in answers:
        assert prediction.intent == expected[text].intent
        assert prediction.confidence == pytest.approx(expected[text].confidence, abs=1e-4)
    assert batched.version == classifier.version
    assert worker.batches < len(answers)  # they shared model calls


def test_batched_vectors_match_the_encoders_own(encoder: SentenceEncoder, worker: BatchWorker) -> None:
    batched = BatchedEncoder(encoder, worker)
    with ThreadPoolExecutor(8) as pool:
        vectors = list(pool.map(lambda text: batched.encode([text])[0], QUESTIONS))
    np.testing.assert_allclose(np.stack(vectors), encoder.encode(QUESTIONS), atol=1e-5)
    assert batched.encode([]).shape == (0, encoder.dim) and batched.dim == encoder.dim


def test_a_batch_spanning_a_model_swap_runs_each_request_on_its_own_model() -> None:
    old, new = "v1", "v2"
    calls: list[tuple[str, list[str]]] = []

    def tag(model: str, texts: list[str]) -> list[str]:
        calls.append((model, texts))
        return [f"{model}:{text}" for text in texts]

    results = by_model(tag)([(old, "a"), (new, "b"), (old, "c")])
    assert results == ["v1:a", "v2:b", "v1:c"]
    assert calls == [("v1", ["a", "c"]), ("v2", ["b"])]
