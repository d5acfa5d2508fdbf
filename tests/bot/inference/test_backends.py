"""HELPLINE_INFERENCE picks the runtime; the served models on ONNX Runtime answer as the PyTorch ones do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.inference.backends import AUTO_CPU, Backend, choose_backend, encoder_graph_dir, thread_split
from bot.inference.models import load_classifier, load_models, max_batch, on_worker
from bot.settings import Settings
from core.batching import BatchWorker
from core.onnx_encoder import OnnxSentenceEncoder
from training.model import IntentClassifier
from training.onnx_classifier import OnnxClassifier

QUESTIONS = ["Do you ship to Norway?", "hi", "I want my money back", "where is my parcel", "bye",
             "can I pay with PayPal?", "talk to a human please"]


@pytest.mark.parametrize(("inference", "device", "expected"), [
    ("auto", "cuda", Backend("torch", device="cuda", bf16=True)),
    ("auto", "cpu", Backend("onnx", classifier_int8=AUTO_CPU[0], encoder_int8=AUTO_CPU[1], threads=3)),
    ("torch", "cpu", Backend("torch", device="cpu")),
    ("onnx", "cpu", Backend("onnx", threads=3)),
    ("onnx-int8", "cpu", Backend("onnx", classifier_int8=True, encoder_int8=True, threads=3)),
    ("onnx", "cuda", Backend("onnx", threads=3)),  # ONNX Runtime here is the CPU build
])
def test_the_setting_picks_the_backend(inference: str, device: str, expected: Backend) -> None:
    settings = Settings(inference=inference, device=device, inference_threads=6)  # type: ignore[arg-type]
    assert choose_backend(settings) == expected  # 6 threads: the two models' calls get 3 each


@pytest.mark.parametrize(("threads", "split"), [(1, (1, 1)), (2, (2, 1)), (3, (2, 1)), (16, (2, 8))])
def test_the_two_models_share_the_threads_and_never_exceed_them(threads: int, split: tuple[int, int]) -> None:
    calls, each = thread_split(Settings(inference_threads=threads))
    assert (calls, each) == split and calls * each <= threads


@pytest.fixture
def worker() -> Iterator[BatchWorker]:
    running = BatchWorker(max_batch=8, max_wait_s=0.005)
    yield running
    running.close()


def test_onnx_models_serve_the_demo_like_torch(settings: Settings, demo_model_dir: Path,
                                               worker: BatchWorker) -> None:
    onnx = settings.model_copy(update={"inference": "onnx", "inference_threads": 1})
    models = load_models(onnx, worker)
    assert (encoder_graph_dir(onnx) / "encoder.onnx").is_file()
    assert isinstance(models.retriever.encoder.encoder, OnnxSentenceEncoder)  # behind the worker
    torch_models = load_models(settings.model_copy(update={"inference": "torch"}))
    expected = torch_models.classifier.predict(QUESTIONS)
    assert [p.intent for p in models.classifier.predict(QUESTIONS)] == [p.intent for p in expected]
    for question in QUESTIONS:
        ours, theirs = models.retriever.retrieve(question, k=3), torch_models.retriever.retrieve(question, k=3)
        assert [hit.entry.id for hit in ours] == [hit.entry.id for hit in theirs]


def test_a_reloaded_classifier_follows_the_setting(settings: Settings, demo_model_dir: Path,
                                                   worker: BatchWorker) -> None:
    classifier = load_classifier(demo_model_dir, settings.model_copy(update={"inference": "onnx-int8"}))
    assert isinstance(classifier, OnnxClassifier) and classifier.graph.name == "classifier.int8.onnx"
    served = on_worker(classifier, worker)
    assert served.version == demo_model_dir.name
    assert [p.intent for p in served.predict(QUESTIONS)] == [p.intent for p in classifier.predict(QUESTIONS)]
    torch_classifier = load_classifier(demo_model_dir, settings.model_copy(update={"inference": "torch"}))
    assert isinstance(torch_classifier, IntentClassifier)


@pytest.mark.parametrize(("device", "given", "expected"), [("cpu", None, 4), ("cuda", None, 64), ("cpu", 32, 32)])
def test_batches_are_small_on_a_cpu_and_large_on_a_gpu_unless_set(device: str, given: int | None,
                                                                  expected: int) -> None:
    assert max_batch(Settings(device=device, inference_max_batch=given)) == expected
