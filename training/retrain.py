"""Retrain: fine-tune a candidate (from production or the base encoder), evaluate it beside production, gate it.

Fine-tuning from production keeps production's label ids and appends rows for new labels (the label set
can grow), each new row starting at the mean embedding of its examples.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from training.args import TrainingArguments
from training.batches import Batches
from training.data import Example, is_oos, stratified_split
from training.metrics import accuracy, macro_f1
from training.model import IntentClassifier, pick_device, read_json
from training.network import CosineHead, IntentNetwork, LinearHead, build_head
from training.promotion import Decision, decide
from training.report import REPORT_DIR, Evaluation, evaluate_detailed, write_report
from training.threshold import OOS, choose_threshold, label_predictions
from training.trainer import (
    NotEnoughData,
    TrainResult,
    autocast,
    build_optimizer,
    class_means,
    linear_schedule,
    predict_probs,
    prepare_out_dir,
    publish,
    train,
)

STARTS = ("production", "base")


class NoEvaluationSet(ValueError):
    """Nothing to evaluate the candidate on, so no promotion could be justified."""


MACHINE_ARGS = frozenset({"device"})  # where production was trained says nothing about this machine


def training_arguments(production: Path | None, **overrides: Any) -> TrainingArguments:
    """Production's training arguments (the company's configuration) with ``overrides`` (None: not given).

    Without a production model, the defaults. The device is never inherited: None picks CUDA when present.
    """
    stored = read_json(production / "training_args.json") if production is not None else {}
    known = {f.name for f in dataclasses.fields(TrainingArguments)} - MACHINE_ARGS
    values = {k: v for k, v in stored.items() if k in known}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return TrainingArguments(**values)


def grown_labels(labels: Sequence[str], examples: Sequence[Example]) -> list[str]:
    """The existing labels in their order (their ids are kept), then the new ones sorted."""
    return [*labels, *sorted({example.label for example in examples} - set(labels))]


@torch.no_grad()
def grow_head(head: CosineHead | LinearHead, kind: str, means: torch.Tensor) -> CosineHead | LinearHead:
    """A head with one row per row of ``means``: the old rows copied, the new ones started at their means."""
    old_rows = head.state_dict()
    num_old = next(t.shape[0] for t in old_rows.values() if t.ndim >= 1)
    grown = build_head(kind, means.shape[1], means.shape[0]).to(means.device)
    grown.init_from_means(means)
    state = grown.state_dict()
    for name, tensor in old_rows.items():
        if tensor.ndim >= 1 and tensor.shape[0] == num_old:
            state[name][:num_old] = tensor  # weight rows and biases of the labels production knows
        else:
            state[name] = tensor.clone()  # the cosine head's learned scale
    grown.load_state_dict(state)
    return grown


@dataclass
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


def fine_tune(examples: Sequence[Example], args: TrainingArguments, production: Path, out_dir: Path,
              progress: bool = True, overwrite: bool = False) -> TrainResult:
    """Fine-tune the production model folder on ``examples`` (new labels get new rows); save to ``out_dir``."""
    out_dir = Path(out_dir)
    if not examples:
        raise NotEnoughData("no training examples")
    prepare_out_dir(out_dir, overwrite)
    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    start = IntentClassifier.load(production, device=str(device))
    labels = grown_labels(start.labels, examples)
    network = start.network
    if len(labels) > len(start.labels):
        index = {label: i for i, label in enumerate(labels)}
        batches = Batches(start.tokenizer, [e.text for e in examples], args.max_length)
        targets = np.array([index[e.label] for e in examples])
        means = class_means(network, batches, targets, len(labels), args, device)
        network.head = grow_head(network.head, start.head, means)
    fitted = fit(network, start.tokenizer, labels, examples, args, device, progress)
    new_labels = labels[len(start.labels):]
    classifier = IntentClassifier(
        network, start.tokenizer, labels, threshold=fitted.threshold, max_length=args.max_length, head=start.head,
        metrics=fitted.metrics, training_args={**args.to_dict(), "head": start.head},
        data_summary={**fitted.data_summary, "trained_from": start.version, "new_labels": new_labels},
        device=device,
    )
    publish(classifier, out_dir)
    return TrainResult(path=out_dir, metrics=fitted.metrics)


@dataclass(frozen=True)
class RetrainPlan:
    """Everything one retraining needs: data, where to start, where to write, how to gate."""

    train: Sequence[Example]
    eval: Sequence[Example]  # the fixed evaluation set both models are scored on
    out_dir: Path  # the new version's folder (a registry path)
    args: TrainingArguments
    production: Path | None = None  # the served model's folder; None when nothing is served yet
    start: str = "production"  # "production" (fine-tune it) or "base" (the pre-trained encoder)
    encoder_path: Path | None = None  # the base encoder; None: the default one
    tolerance: float = 0.01
    min_support: int = 10
    force: bool = False
    data_summary: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.start not in STARTS:
            raise ValueError(f"start must be one of {STARTS}, got {self.start!r}")
        if not self.eval:
            raise NoEvaluationSet("the evaluation set is empty: add intents_eval.csv to the seed data")

    @property
    def trained_from(self) -> str:
        """``base`` or the production version fine-tuned."""
        return self.production.name if self.start == "production" and self.production is not None else "base"


@dataclass(frozen=True)
class RetrainResult:
    """The candidate version, both evaluations, the decision and the report."""

    version: str
    path: Path
    trained_from: str
    candidate: Evaluation
    baseline: Evaluation | None
    decision: Decision
    report: Path
    train_metrics: dict[str, Any]


def retrain(plan: RetrainPlan, progress: bool = True) -> RetrainResult:
    """Train the candidate, score it and production on ``plan.eval``, decide, and write the report."""
    if plan.trained_from == "base":
        result = train(plan.train, plan.args, plan.encoder_path, plan.out_dir, progress=progress)
    else:
        assert plan.production is not None
        result = fine_tune(plan.train, plan.args, plan.production, plan.out_dir, progress=progress)
    device = plan.args.device
    candidate = evaluate_detailed(IntentClassifier.load(result.path, device=device), plan.eval)
    baseline = (evaluate_detailed(IntentClassifier.load(plan.production, device=device), plan.eval)
                if plan.production is not None else None)
    decision = decide(candidate.metrics, baseline.metrics if baseline else None, plan.tolerance, plan.min_support)
    if plan.force:
        decision = decision.force("forced with --force")
    details = {"production_version": plan.production.name if plan.production else None,
               "trained_from": plan.trained_from, "tolerance": plan.tolerance, "min_support": plan.min_support,
               "data": dict(plan.data_summary), "training_args": plan.args.to_dict(),
               "training_metrics": {k: v for k, v in result.metrics.items() if k != "history"}}
    report = write_report(result.path / REPORT_DIR, result.path.name, candidate, baseline, decision.to_dict(),
                          details)
    (result.path / "evaluation.json").write_text(json.dumps(
        {"candidate": candidate.metrics, "production": baseline.metrics if baseline else None,
         "decision": decision.to_dict(), **details}, indent=2) + "\n")
    return RetrainResult(result.path.name, result.path, plan.trained_from, candidate, baseline, decision, report,
                         result.metrics)
