"""A trained intent classifier: load it from its folder, save it, predict intents in batches.

``Classifier`` is what every runtime shares (PyTorch here, ONNX Runtime in ``training.onnx_classifier``):
the folder's labels and threshold, and one way of turning probabilities into predictions.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import PreTrainedTokenizerBase

from core.encoder import length_batches, load_encoder, no_transformers_bars, resolve_device
from training.card import write_model_card
from training.data import is_oos
from training.network import IntentNetwork, build_head

FORMAT = "helpline-intent-classifier"
FORMAT_VERSION = 1
ENCODER_DIR = "encoder"  # sub-folder holding the fine-tuned encoder weights and tokenizer files
HEAD_FILE = "head.safetensors"
RANKING_SIZE = 3
# Texts per forward pass, after sorting by length. On 2 CPU cores 8-16 ran 256 random BANKING77 texts ~4.5x
# faster than one padded batch of 256, and 64 texts ~20% faster than one batch of 64 (benchmarks/RESULTS.md);
# a GPU wants its batches wide.
CPU_BATCH, GPU_BATCH = 16, 256


class ModelNotFound(FileNotFoundError):
    """No trained intent model where one was expected."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path

    @classmethod
    def at(cls, path: Path | str, detail: str = "") -> ModelNotFound:
        """The error for a folder that holds no usable model, naming it and how to make one."""
        reason = f" ({detail})" if detail else ""
        return cls(f"no intent model at {path}{reason}; train one with `helpline train`", Path(path))


@dataclass(frozen=True)
class Prediction:
    """The classifier's answer for one text."""

    intent: str  # top label (raw argmax)
    confidence: float  # its softmax probability
    ranking: list[tuple[str, float]]  # top 3 (label, probability), first == (intent, confidence)
    in_scope: bool  # False when intent is an out-of-scope label or confidence < the model's threshold


class Classifier:
    """A classifier served from a model folder: its labels, threshold and ``predict`` over ``probabilities``."""

    labels: list[str]
    threshold: float
    path: Path
    batch_size: int = CPU_BATCH

    @property
    def version(self) -> str:
        """The model folder's name, which is its registry version."""
        return self.path.name

    @property
    def oos_label(self) -> str | None:
        """The explicit out-of-scope label the model was trained with, if any."""
        return next((label for label in self.labels if is_oos(label)), None)

    def probabilities(self, texts: Sequence[str], batch_size: int | None = None) -> torch.Tensor | np.ndarray:
        """Softmax probabilities, one row per text, in length-sorted batches of ``batch_size``."""
        raise NotImplementedError

    def predict(self, texts: Sequence[str], batch_size: int | None = None) -> list[Prediction]:
        """Classify texts: top intent, its probability, top-3 ranking and whether it is in scope."""
        if isinstance(texts, str):
            raise TypeError("predict takes a sequence of texts, not one string")
        return rank(np.asarray(self.probabilities(texts, batch_size)), self.labels, self.threshold)


def rank(probs: np.ndarray, labels: Sequence[str], threshold: float) -> list[Prediction]:
    """Predictions from softmax rows: the top 3 labels, and in scope unless OOS or under ``threshold``."""
    k = min(RANKING_SIZE, len(labels))
    top_ids = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    predictions = []
    for row_probs, row_ids in zip(probs.tolist(), top_ids.tolist(), strict=True):
        ranking = [(labels[i], row_probs[i]) for i in row_ids]
        intent, confidence = ranking[0]
        in_scope = not is_oos(intent) and confidence >= threshold
        predictions.append(Prediction(intent, confidence, ranking, in_scope))
    return predictions


def normalise(texts: Sequence[str]) -> list[str]:
    """Whitespace collapsed, as the classifier was trained on it."""
    return [" ".join(text.split()) for text in texts]


def read_config(folder: Path) -> tuple[dict[str, Any], list[str]]:
    """A model folder's config.json and labels, checked (ModelNotFound when the folder is not a model)."""
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ModelNotFound.at(folder, "config.json missing")
    config = json.loads(config_file.read_text())
    if config.get("format") != FORMAT:
        raise ModelNotFound.at(folder, f"config.json is not a {FORMAT} config")
    missing = [name for name in (f"{ENCODER_DIR}/config.json", HEAD_FILE, "labels.json")
               if not (folder / name).is_file()]
    if missing:
        raise ModelNotFound.at(folder, f"missing {', '.join(missing)}")
    return config, json.loads((folder / "labels.json").read_text())


class IntentClassifier(Classifier):
    """Fine-tuned encoder + head; ``predict`` is batched, gradient-free and safe to call from threads."""

    def __init__(
        self,
        network: IntentNetwork,
        tokenizer: PreTrainedTokenizerBase,
        labels: Sequence[str],
        *,
        threshold: float = 0.0,
        max_length: int = 128,
        head: str = "cosine",
        path: Path | None = None,
        metrics: dict[str, Any] | None = None,
        training_args: dict[str, Any] | None = None,
        data_summary: dict[str, Any] | None = None,
        device: str | torch.device | None = None,
        bf16: bool = False,
    ) -> None:
        self.labels = list(labels)
        self.threshold = float(threshold)
        self.max_length = max_length
        self.head = head
        self.path = path if path is not None else Path(".")
        self.metrics = dict(metrics or {})
        self.training_args = dict(training_args or {})
        self.data_summary = dict(data_summary or {})
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        self.network = network.to(self.device).eval()
        self.bf16 = bf16 and self.device.type == "cuda"  # bfloat16 autocast: weights stay float32
        self.batch_size = GPU_BATCH if self.device.type == "cuda" else CPU_BATCH
        self.tokenizer = tokenizer
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | str, device: str | None = None, *, bf16: bool = False) -> IntentClassifier:
        """Load a model folder written by `save` (offline: local files only); ``bf16``: autocast on CUDA."""
        folder = Path(path)
        config, labels = read_config(folder)
        encoder_dir = folder / ENCODER_DIR
        tokenizer, encoder = load_encoder(encoder_dir)
        head = build_head(config["head"], config["hidden_size"], len(labels))
        head.load_state_dict(load_file(folder / HEAD_FILE))
        return cls(
            IntentNetwork(encoder, head),
            tokenizer,
            labels,
            threshold=config["threshold"],
            max_length=config["max_length"],
            head=config["head"],
            path=folder,
            metrics=read_json(folder / "metrics.json"),
            training_args=read_json(folder / "training_args.json"),
            data_summary=config.get("data", {}),
            device=device,
            bf16=bf16,
        )

    def config(self) -> dict[str, Any]:
        """What config.json stores: architecture, sizes, max_length, threshold, OOS label."""
        encoder_config = self.network.encoder.config
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "architecture": f"{encoder_config.model_type} encoder + mean pooling + {self.head} head",
            "pooling": "mean",
            "head": self.head,
            "hidden_size": encoder_config.hidden_size,
            "num_labels": len(self.labels),
            "max_length": self.max_length,
            "threshold": self.threshold,
            "oos_label": self.oos_label,
            "data": self.data_summary,
        }

    def save(self, path: Path) -> None:
        """Write the whole model folder (the registry entry) into ``path``."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock, no_transformers_bars():
            self.network.encoder.save_pretrained(folder / ENCODER_DIR)
            self.tokenizer.save_pretrained(folder / ENCODER_DIR)
            head_state = {name: tensor.detach().cpu().contiguous()
                          for name, tensor in self.network.head.state_dict().items()}
            save_file(head_state, folder / HEAD_FILE)
        write_json(folder / "labels.json", self.labels)
        write_json(folder / "training_args.json", self.training_args)
        write_json(folder / "metrics.json", self.metrics)
        write_model_card(folder / "README.md", self.config(), self.training_args, self.metrics)
        write_json(folder / "config.json", self.config())  # last: its presence marks a complete folder
        self.path = folder

    def probabilities(self, texts: Sequence[str], batch_size: int | None = None) -> torch.Tensor:
        """Softmax probabilities, one row per text, on the CPU."""
        texts = normalise(texts)
        out = torch.empty(len(texts), len(self.labels))
        amp: contextlib.AbstractContextManager[Any] = (
            torch.autocast("cuda", dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext())
        with self._lock, torch.inference_mode(), amp:
            for rows in length_batches(texts, batch_size or self.batch_size):
                batch = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt").to(self.device)
                logits = self.network(batch["input_ids"], batch["attention_mask"])
                out[rows] = torch.softmax(logits.float(), dim=-1).cpu()
        return out


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file, or {} when the file is absent."""
    return json.loads(path.read_text()) if path.is_file() else {}


def write_json(path: Path, value: Any) -> None:
    """Write JSON, indented, with a trailing newline."""
    path.write_text(json.dumps(value, indent=2, sort_keys=False) + "\n")

