"""Sentence embeddings: the encoder of ``core.encoder``, mean-pooled and L2-normalised, texts in, vectors out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from core.encoder import length_batches, load_encoder, mean_pool, resolve_device, resolve_encoder_path


class TextEncoder(Protocol):
    """What retrieval needs of an encoder: the sentence encoder, or a micro-batched front of one."""

    @property
    def path(self) -> Path: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class QueuedEncoder(TextEncoder, Protocol):
    """An encoder that can start encoding now and hand over the vectors later, while the caller does other work
    (the inference worker's front: its calls run beside the classifier's)."""

    def encode_soon(self, texts: Sequence[str]) -> Callable[[], np.ndarray]: ...


class EncoderFront:
    """A stand-in that changes how another encoder runs, not what it is: same folder, same vectors' size."""

    def __init__(self, encoder: TextEncoder) -> None:
        self.encoder = encoder

    @property
    def path(self) -> Path:
        return self.encoder.path

    @property
    def dim(self) -> int:
        return self.encoder.dim


class SentenceEncoder:
    """Turns texts into unit-length float32 vectors (mean pooling over the attention mask)."""

    def __init__(
        self,
        path: Path | str | None = None,
        device: str | None = None,
        batch_size: int = 64,
        max_length: int = 256,
    ) -> None:
        if batch_size < 1 or max_length < 1:
            raise ValueError("batch_size and max_length must be positive")
        self.path = resolve_encoder_path(path)
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.max_length = max_length
        self._tokenizer, self._model = load_encoder(self.path)
        self._model.to(self.device)  # type: ignore[arg-type]  # transformers' typing of .to() is wrong here
        self._model.eval()
        self.dim: int = int(self._model.config.hidden_size)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SentenceEncoder(path={str(self.path)!r}, device={str(self.device)!r}, dim={self.dim})"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` as an (n, dim) float32 array of unit vectors."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        with self._lock, torch.inference_mode():
            for rows in length_batches(texts, self.batch_size):  # results go back in the caller's order
                out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self.device)
        pooled = mean_pool(self._model(**batch).last_hidden_state, batch["attention_mask"])
        return torch.nn.functional.normalize(pooled, p=2, dim=1).float().cpu().numpy()
