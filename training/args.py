"""The knobs of one fine-tuning run, validated when built and stored beside the model."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

HEADS = ("cosine", "linear")


@dataclass
class TrainingArguments:
    """Hyper-parameters of `training.trainer.train`; the defaults reach >=93% on BANKING77."""

    epochs: int = 5  # passes over the training data (early stopping may end sooner)
    batch_size: int = 32  # examples per optimiser step
    learning_rate: float = 5e-5  # peak learning rate of the encoder
    head_learning_rate: float = 3e-3  # peak learning rate of the classification head
    warmup_ratio: float = 0.1  # share of all steps spent warming the learning rates up from 0
    weight_decay: float = 0.01  # AdamW decoupled weight decay (not applied to biases and LayerNorms)
    label_smoothing: float = 0.1  # cross-entropy label smoothing
    max_length: int = 128  # tokens kept per text (batches are padded to their longest text only)
    val_fraction: float = 0.1  # share of each intent held out for early stopping and the threshold
    patience: int = 2  # epochs without validation improvement before stopping (0: never stop early)
    seed: int = 42  # seeds shuffling, dropout and the validation split
    device: str | None = None  # torch device; None picks CUDA when present, else CPU
    head: str = "cosine"  # "cosine": scaled cosine to class prototypes; "linear": a dense layer
    cosine_scale: float = 20.0  # initial (learned) logit scale of the cosine head
    dropout: float = 0.1  # dropout on the pooled embedding before the head
    max_grad_norm: float = 1.0  # gradient-norm clipping (0: off)
    amp: bool = True  # bfloat16/float16 autocast on CUDA (ignored on CPU)
    threshold_quantile: float = 0.05  # without OOS rows: threshold = this quantile of correct confidences
    eval_batch_size: int = 128  # batch size for validation and prediction

    def __post_init__(self) -> None:
        counts = {"epochs": self.epochs, "batch_size": self.batch_size,
                  "max_length": self.max_length, "eval_batch_size": self.eval_batch_size}
        for name, count in counts.items():
            if not isinstance(count, int) or count < 1:
                raise ValueError(f"{name} must be a positive integer, got {count!r}")
        rates = {"learning_rate": self.learning_rate, "head_learning_rate": self.head_learning_rate,
                 "cosine_scale": self.cosine_scale}
        for name, rate in rates.items():
            if not rate > 0:
                raise ValueError(f"{name} must be > 0, got {rate!r}")
        fractions = {"warmup_ratio": self.warmup_ratio, "label_smoothing": self.label_smoothing,
                     "val_fraction": self.val_fraction, "dropout": self.dropout,
                     "threshold_quantile": self.threshold_quantile}
        for name, fraction in fractions.items():
            if not 0.0 <= fraction < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {fraction!r}")
        if self.weight_decay < 0 or self.max_grad_norm < 0:
            raise ValueError("weight_decay and max_grad_norm must be >= 0")
        if not isinstance(self.patience, int) or self.patience < 0:
            raise ValueError(f"patience must be an integer >= 0, got {self.patience!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")

    def to_dict(self) -> dict[str, Any]:
        """The arguments as a JSON-ready dict (stored as training_args.json)."""
        return asdict(self)
