"""Which runtime computes the served models (``HELPLINE_INFERENCE``), and loading them on it.

``torch``: PyTorch on ``HELPLINE_DEVICE``, with bfloat16 autocast on CUDA. ``onnx`` / ``onnx-int8``: ONNX Runtime
on the CPU, float32 or int8 graphs, exported on demand when a folder lacks them. ``auto``: PyTorch when
there is a GPU, else ONNX Runtime with the precisions measured to keep accuracy (see ``AUTO_CPU``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import torch

from bot.settings import Settings
from core.encoder import resolve_device, resolve_encoder_path
from core.onnx_encoder import GraphLoadFailed, OnnxSentenceEncoder
from core.sentence_encoder import EncoderFront, SentenceEncoder, TextEncoder
from training.model import Classifier, IntentClassifier
from training.onnx_classifier import OnnxClassifier
from training.onnx_export import GraphExportFailed, classifier_graph, encoder_graph

log = logging.getLogger(__name__)

# What ``auto`` serves on a CPU: (classifier int8, encoder int8). int8 is used where it keeps BANKING77 accuracy
# within 0.5 points and StackFAQ top-1 within 0.005 of float32; benchmarks/classifier_speed.py measured both in
# one run (RESULTS.md, "Classifier latency and throughput"): BANKING77 92.44% int8 against 92.66% fp32 (-0.22
# points), StackFAQ top-1 0.949 int8 against 0.950 fp32 (0.951 with int8 queries on an fp32 index).
AUTO_CPU = (True, True)

# The served models: the classifier and the encoder. Each runs one batch at a time, so the inference worker
# runs at most this many calls at once.
MODELS = 2

T = TypeVar("T")


def thread_split(settings: Settings) -> tuple[int, int]:
    """(model calls at once, threads each call computes on), within ``inference_thread_count`` in all.

    A message's two passes run side by side on one thread each rather than one after the other on two: on 2
    cores one int8 pass of a short text took 3.4 ms on one thread against 4.5 ms on two, so the pair took
    5.0 ms side by side against 7.8 ms (one thread) or 9.1 ms (two) in turn. Above two cores each call gets
    its share of the rest, for the long batches of a busy shop.
    """
    threads = settings.inference_thread_count
    calls = min(MODELS, threads)
    return calls, max(1, threads // calls)


@dataclass(frozen=True)
class Backend:
    """The runtime the settings ask for, resolved."""

    runtime: Literal["torch", "onnx"]
    device: str = "cpu"  # torch device (ONNX Runtime always runs on the CPU)
    bf16: bool = False  # torch on CUDA: bfloat16 autocast
    classifier_int8: bool = False
    encoder_int8: bool = False
    threads: int = 1  # ONNX Runtime intra-op threads per session

    def __str__(self) -> str:
        if self.runtime == "torch":
            return f"torch on {self.device}{' (bf16 autocast)' if self.bf16 else ''}"
        precision = {True: "int8", False: "fp32"}
        return (f"onnxruntime on cpu, {self.threads} threads (classifier {precision[self.classifier_int8]}, "
                f"encoder {precision[self.encoder_int8]})")


def choose_backend(settings: Settings) -> Backend:
    """The backend for ``settings.inference``; ``auto`` picks torch on CUDA, else ONNX Runtime (``AUTO_CPU``)."""
    device = resolve_device(settings.device)
    choice = settings.inference
    if choice == "torch" or (choice == "auto" and device.type == "cuda"):
        return Backend("torch", device=str(device), bf16=device.type == "cuda")
    int8 = choice == "onnx-int8"
    classifier_int8, encoder_int8 = AUTO_CPU if choice == "auto" else (int8, int8)
    return Backend("onnx", classifier_int8=classifier_int8, encoder_int8=encoder_int8,
                   threads=thread_split(settings)[1])


def load_classifier_on(path: Path, backend: Backend) -> Classifier:
    """The model folder's classifier on ``backend`` (ONNX: its graph exported first when missing or stale)."""
    if backend.runtime == "torch":
        return IntentClassifier.load(path, device=backend.device, bf16=backend.bf16)
    return _open(lambda force: classifier_graph(path, backend.classifier_int8, force),
                 lambda graph: OnnxClassifier.load(path, graph, backend.threads))


def encoder_graph_dir(settings: Settings) -> Path:
    """Where the base encoder's graphs live: ``<data dir>/encoders/<encoder folder name>/``."""
    return settings.data_dir / "encoders" / resolve_encoder_path(settings.encoder_path).name


def load_encoder_on(settings: Settings, backend: Backend) -> TextEncoder:
    """The sentence encoder on ``backend`` (ONNX: its graph exported into the data dir when missing or stale)."""
    if backend.runtime == "torch":
        encoder = SentenceEncoder(settings.encoder_path, device=backend.device)
        return Bf16Encoder(encoder) if backend.bf16 else encoder
    target = encoder_graph_dir(settings)
    encoder_path = settings.encoder_path
    return _open(lambda force: encoder_graph(encoder_path, target, backend.encoder_int8, force),
                 lambda graph: OnnxSentenceEncoder(graph, encoder_path, threads=backend.threads))


def _open(graph: Callable[[bool], Path], load: Callable[[Path], T]) -> T:
    """Load from the graph; one that its manifest vouches for but that does not open is exported again."""
    try:
        path = graph(False)
        try:
            return load(path)
        except GraphLoadFailed as exc:
            log.warning("%s; exporting it again", exc)
            return load(graph(True))
    except GraphExportFailed as exc:
        raise GraphExportFailed(f"{exc}; HELPLINE_INFERENCE=torch serves it with PyTorch") from exc


class Bf16Encoder(EncoderFront):
    """A sentence encoder under bfloat16 autocast on CUDA (its weights stay float32)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return self.encoder.encode(texts)
