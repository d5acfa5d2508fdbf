"""Retrain: fine-tune a candidate (from production or the base encoder), evaluate it beside production, gate it.

Fine-tuning from production keeps production's label ids and appends rows for new labels (the label set
can grow), each new row starting at the mean embedding of its examples.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.encoder import resolve_device
from training.args import TrainingArguments
from training.batches import Batches
from training.data import Example
from training.model import IntentClassifier, read_json
from training.network import CosineHead, LinearHead, build_head
from training.promotion import DEFAULT_MIN_SUPPORT, DEFAULT_TOLERANCE, Decision, decide
from training.report import REPORT_DIR, Evaluation, evaluate_detailed, write_report
from training.trainer import NotEnoughData, TrainResult, class_means, fit, prepare_out_dir, publish, train

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


def fine_tune(examples: Sequence[Example], args: TrainingArguments, production: Path, out_dir: Path,
              progress: bool = True, overwrite: bool = False) -> TrainResult:
    """Fine-tune the production model folder on ``examples`` (new labels get new rows); save to ``out_dir``."""
    out_dir = Path(out_dir)
    if not examples:
        raise NotEnoughData("no training examples")
    prepare_out_dir(out_dir, overwrite)
    torch.manual_seed(args.seed)
    device = resolve_device(args.device)
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
    tolerance: float = DEFAULT_TOLERANCE
    min_support: int = DEFAULT_MIN_SUPPORT
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
