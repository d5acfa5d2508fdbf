"""The intent classifier on ONNX Runtime: a model folder's exported graph, with the folder's own tokenizer,
labels and threshold, so its predictions mean what the PyTorch classifier's mean."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from transformers import PreTrainedTokenizerBase

from core.encoder import length_batches
from core.onnx_encoder import load_tokenizer, ort_session, run_graph
from training.model import ENCODER_DIR, Classifier, normalise, read_config


class OnnxClassifier(Classifier):
    """Softmax probabilities from ``<model folder>/onnx/classifier(.int8).onnx``; ``predict`` as ``Classifier``."""

    def __init__(
        self,
        session: ort.InferenceSession,
        tokenizer: PreTrainedTokenizerBase,
        labels: Sequence[str],
        *,
        threshold: float,
        max_length: int,
        path: Path,
        graph: Path,
    ) -> None:
        self.labels = list(labels)
        self.threshold = float(threshold)
        self.max_length = max_length
        self.path = path
        self.graph = graph
        self._session = session
        self._tokenizer = tokenizer
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OnnxClassifier(version={self.version!r}, graph={self.graph.name!r})"

    @classmethod
    def load(cls, path: Path | str, graph: Path, threads: int = 1) -> OnnxClassifier:
        """Serve the model folder ``path`` from its exported ``graph`` (see ``training.onnx_export``)."""
        folder = Path(path)
        config, labels = read_config(folder)
        return cls(ort_session(graph, threads), load_tokenizer(folder / ENCODER_DIR), labels,
                   threshold=config["threshold"], max_length=config["max_length"], path=folder, graph=graph)

    def probabilities(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Softmax probabilities, one row per text (the graph ends in the softmax; batches sorted by length)."""
        texts = normalise(texts)
        out = np.empty((len(texts), len(self.labels)), dtype=np.float32)
        with self._lock:
            for rows in length_batches(texts, batch_size or self.batch_size):
                out[rows] = run_graph(self._session, self._tokenizer, [texts[i] for i in rows], self.max_length)
        return out
