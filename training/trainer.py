"""Fine-tune the encoder and head on labelled examples, stop early on validation, save the model folder."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from core.encoder import load_encoder, resolve_device
from training.args import TrainingArguments
from training.batches import Batches
from training.data import Example, is_oos, stratified_split
from training.metrics import accuracy, macro_f1
from training.model import IntentClassifier
from training.network import IntentNetwork, build_head
from training.onnx_export import GraphExportFailed, classifier_graph
from training.threshold import OOS, choose_threshold, label_predictions

log = logging.getLogger(__name__)


class NotEnoughData(ValueError):
    """Too few examples or intents to train a classifier."""


@dataclass(frozen=True)
class TrainResult:
    """Where the model folder was written and the metrics stored in it."""

    path: Path
    metrics: dict[str, Any]


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast on CUDA when enabled and supported; a no-op elsewhere."""
    if enabled and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.no_grad()
def predict_probs(network: IntentNetwork, batches: Batches, args: TrainingArguments,
                  device: torch.device) -> np.ndarray:
    """Softmax probabilities of every text (network in eval mode)."""
    network.eval()
    rows = []
    for batch in batches.iterate(args.eval_batch_size):
        input_ids, mask = batches.collate(batch, device)
        with autocast(device, args.amp):
            logits = network(input_ids, mask)
        rows.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
    return np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float32)


@torch.no_grad()
def class_means(network: IntentNetwork, batches: Batches, targets: np.ndarray, num_labels: int,
                args: TrainingArguments, device: torch.device) -> torch.Tensor:
    """Mean pooled embedding of each label's training texts (zeros for a label without any)."""
    network.eval()
    sums = torch.zeros(num_labels, network.encoder.config.hidden_size, device=device)
    counts = torch.zeros(num_labels, device=device)
    for batch in batches.iterate(args.eval_batch_size):
        input_ids, mask = batches.collate(batch, device)
        with autocast(device, args.amp):
            pooled = network.embed(input_ids, mask).float()
        index = torch.as_tensor(targets[batch], device=device)
        sums.index_add_(0, index, pooled)
        counts.index_add_(0, index, torch.ones(len(batch), device=device))
    return sums / counts.clamp(min=1).unsqueeze(-1)


def linear_schedule(warmup_steps: int, total_steps: int) -> Any:
    """Learning-rate multiplier: linear warmup to 1, then linear decay to 0."""
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
    return factor


def build_optimizer(network: IntentNetwork, args: TrainingArguments) -> torch.optim.AdamW:
    """AdamW with the encoder at ``learning_rate`` and the head at ``head_learning_rate``."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, param in network.encoder.named_parameters():
        (no_decay if param.ndim < 2 or "LayerNorm" in name or "norm" in name.lower() else decay).append(param)
    return torch.optim.AdamW(
        [
            {"params": decay, "lr": args.learning_rate, "weight_decay": args.weight_decay},
            {"params": no_decay, "lr": args.learning_rate, "weight_decay": 0.0},
            {"params": list(network.head.parameters()), "lr": args.head_learning_rate, "weight_decay": 0.0},
        ]
    )


def prepare_out_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse to replace an existing model (or any non-empty folder) unless ``overwrite``."""
    if out_dir.exists() and not overwrite and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} already exists and is not empty; pass overwrite=True to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)


def publish(classifier: IntentClassifier, out_dir: Path) -> None:
    """Save into a hidden sibling folder with its ONNX graphs, then move it into place so readers never see
    half a model."""
    staging = out_dir.parent / f".{out_dir.name}.tmp-{secrets.token_hex(4)}"
    try:
        classifier.save(staging)
        try:
            classifier_graph(staging, int8=False)  # writes both graphs; served folders need not export later
        except GraphExportFailed as exc:  # PyTorch still serves it; an ONNX backend says why when it loads
            log.warning("model saved without ONNX graphs: %s", exc)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    classifier.path = out_dir


@dataclass(frozen=True)
class Fitted:
    """The trained network's validation outcome."""

    threshold: float
    metrics: dict[str, Any]
    data_summary: dict[str, Any]


def fit(network: IntentNetwork, tokenizer: Any, labels: Sequence[str], examples: Sequence[Example],
        args: TrainingArguments, device: torch.device, progress: bool) -> Fitted:
    """Train ``network`` in place on ``examples``; keep its best epoch on validation (like `training.trainer`)."""
    started = time.perf_counter()
    train_set, val_set = (stratified_split(examples, args.val_fraction, args.seed)
                          if args.val_fraction > 0 else (list(examples), []))
    index = {label: i for i, label in enumerate(labels)}
    train_batches = Batches(tokenizer, [e.text for e in train_set], args.max_length)
    val_batches = Batches(tokenizer, [e.text for e in val_set], args.max_length)
    targets = np.array([index[e.label] for e in train_set])
    optimizer = build_optimizer(network, args)
    steps_per_epoch = -(-len(train_set) // args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, linear_schedule(int(args.warmup_ratio * total_steps), total_steps))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    shuffler = torch.Generator().manual_seed(args.seed)
    val_gold = [e.label for e in val_set]
    best, best_epoch, stale = (-1.0, -1.0), 0, 0
    best_state: dict[str, torch.Tensor] = {}
    best_probs = np.zeros((0, len(labels)))
    history: list[dict[str, float]] = []
    epochs_bar = tqdm(range(1, args.epochs + 1), desc="epochs", unit="epoch", disable=not progress)
    for epoch in epochs_bar:
        network.train()
        order = torch.randperm(len(train_set), generator=shuffler).tolist()
        total_loss = 0.0
        for batch in tqdm(train_batches.iterate(args.batch_size, order), total=steps_per_epoch,
                          desc=f"epoch {epoch}", unit="batch", leave=False, disable=not progress):
            input_ids, mask = train_batches.collate(batch, device)
            with autocast(device, args.amp):
                logits = network(input_ids, mask)
            loss = loss_fn(logits.float(), torch.as_tensor(targets[batch], device=device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if args.max_grad_norm:
                nn.utils.clip_grad_norm_(network.parameters(), args.max_grad_norm)
            optimizer.step()
            scheduler.step()
            total_loss += loss.item()
        record: dict[str, float] = {"epoch": epoch, "train_loss": round(total_loss / steps_per_epoch, 4)}
        if val_set:
            probs = predict_probs(network, val_batches, args, device)
            pred = label_predictions(probs, labels)
            gold = np.array([OOS if is_oos(label) else label for label in val_gold], dtype=object)
            score = (macro_f1(gold, pred), accuracy(gold, pred))
            record.update(val_macro_f1=round(score[0], 4), val_accuracy=round(score[1], 4))
        else:
            score = (float(epoch), 0.0)  # no validation: keep the last epoch
        history.append(record)
        epochs_bar.set_postfix({k: v for k, v in record.items() if k != "epoch"})
        if score > best:
            best, best_epoch, stale = score, epoch, 0
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in network.state_dict().items()}
            best_probs = probs if val_set else best_probs
        else:
            stale += 1
            if args.patience and stale >= args.patience:
                break
    network.load_state_dict(best_state)
    if not val_set:
        best_probs, val_gold = predict_probs(network, train_batches, args, device), [e.label for e in train_set]
    threshold = choose_threshold(best_probs, val_gold, labels, args.threshold_quantile)
    return Fitted(
        threshold=threshold,
        metrics={
            "val_accuracy": history[best_epoch - 1].get("val_accuracy"),
            "val_macro_f1": history[best_epoch - 1].get("val_macro_f1"),
            "best_epoch": best_epoch, "epochs_run": len(history), "threshold": round(threshold, 4),
            "device": str(device), "train_seconds": round(time.perf_counter() - started, 1), "history": history,
        },
        data_summary={"train_examples": len(train_set), "val_examples": len(val_set), "labels": len(labels),
                      "oos_examples": sum(is_oos(e.label) for e in examples)},
    )


def train(
    examples: Sequence[Example],
    args: TrainingArguments,
    encoder_path: Path | str | None,
    out_dir: Path,
    progress: bool = True,
    overwrite: bool = False,
) -> TrainResult:
    """Fine-tune encoder + head on ``examples`` and write the model folder to ``out_dir``."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    labels = sorted({example.label for example in examples})
    if len(labels) < 2:
        raise NotEnoughData(f"need examples of at least two intents, got {len(labels)}")
    prepare_out_dir(out_dir, overwrite)
    torch.manual_seed(args.seed)
    device = resolve_device(args.device)
    tokenizer, encoder = load_encoder(encoder_path)
    head = build_head(args.head, encoder.config.hidden_size, len(labels), args.cosine_scale)
    network = IntentNetwork(encoder, head, args.dropout).to(device)
    # the head starts at the class means of the training split (fit() holds the same split out for validation)
    seen = stratified_split(examples, args.val_fraction, args.seed)[0] if args.val_fraction > 0 else examples
    index = {label: i for i, label in enumerate(labels)}
    batches = Batches(tokenizer, [e.text for e in seen], args.max_length)
    targets = np.array([index[e.label] for e in seen])
    head.init_from_means(class_means(network, batches, targets, len(labels), args, device))
    fitted = fit(network, tokenizer, labels, examples, args, device, progress)
    metrics = {**fitted.metrics, "train_seconds": round(time.perf_counter() - started, 1)}
    classifier = IntentClassifier(
        network, tokenizer, labels, threshold=fitted.threshold, max_length=args.max_length, head=args.head,
        metrics=metrics, training_args=args.to_dict(), data_summary=fitted.data_summary, device=device,
    )
    publish(classifier, out_dir)
    return TrainResult(path=out_dir, metrics=metrics)
