"""Retrain with the gate: train a candidate on the logged data, score it beside production, promote it or not."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.learning import catalog
from bot.learning.reloader import notify_replicas
from bot.learning.training_data import SeedDataMissing, dataset_from_logs
from bot.services.database import transcript_store
from bot.services.datasets import CLOCK_SLACK
from bot.services.erasure_files import files_lock
from bot.settings import Settings
from bot.store.erasure import erased_since
from bot.store.models import utcnow
from bot.store.transcripts import TranscriptStore
from training.data import Example, load_examples
from training.erasure import scrub_report
from training.promotion import Decision
from training.registry import ModelRegistry
from training.retrain import RetrainPlan, retrain, training_arguments

EVAL_FILE = "intents_eval.csv"
HEADLINE = ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision", "n")
NO_PRODUCTION_NOTE = "No production model yet: training from the base encoder."


@dataclass(frozen=True)
class Retrained:
    """A candidate version, the gate's decision on it (already applied to the catalog) and its report."""

    version: str
    trained_from: str  # "base" or the production version fine-tuned
    decision: Decision
    metrics: dict[str, Any]  # the candidate's figures on the evaluation set
    baseline_metrics: dict[str, Any] | None  # production's, on the same set; None when nothing was served
    report: Path
    data_summary: dict[str, Any]

    @property
    def promoted(self) -> bool:
        return self.decision.promote

    def to_dict(self) -> dict[str, Any]:
        """What `helpline retrain` prints: the decision and the headline figures of both models."""
        def headline(metrics: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in metrics.items() if k in HEADLINE}

        return {
            "version": self.version, "promoted": self.decision.promote, "forced": self.decision.forced,
            "reasons": list(self.decision.reasons), "metrics": headline(self.metrics),
            "baseline_metrics": headline(self.baseline_metrics) if self.baseline_metrics is not None else None,
            "report": str(self.report),
        }


def training_sets(settings: Settings, store: TranscriptStore, data: Path | None
                  ) -> tuple[list[Example], list[Example], dict[str, Any]]:
    """Training rows, evaluation rows (the seed set + held-out agent labels) and a summary of where they came from.

    The training rows are ``data`` when given, else the seed data and the logged conversations.
    """
    return _training_sets(settings, store, data)[:3]


def _training_sets(settings: Settings, store: TranscriptStore, data: Path | None
                   ) -> tuple[list[Example], list[Example], dict[str, Any], dict[str, set[str]]]:
    """``training_sets``, and the texts each conversation gave the evaluation set (its report may quote them)."""
    held_out: list[Example] = []
    quoted: dict[str, set[str]] = defaultdict(set)
    if data is not None:
        train_examples = load_examples(data)
        summary: dict[str, Any] = {"rows": len(train_examples), "data": str(data),
                                   "labels": len({e.label for e in train_examples})}
    else:
        dataset = dataset_from_logs(settings, store)
        train_examples, held_out = dataset.examples(), dataset.held_out_examples()
        summary = dataset.summary()
        for row in dataset.held_out_labelled:
            if row.conversation_id:
                quoted[row.conversation_id].add(row.text)
    evaluation = [*load_examples(settings.seed_dir / EVAL_FILE), *held_out]
    summary |= {"eval_rows": len(evaluation), "eval_held_out": len(held_out)}
    return train_examples, evaluation, summary, quoted


def retrain_with_gate(
    settings: Settings,
    start: str = "production",
    epochs: int | None = None,
    tolerance: float | None = None,
    min_support: int | None = None,
    force: bool = False,
    data: Path | None = None,
    progress: bool = True,
    note: Callable[[str], None] | None = None,
) -> Retrained:
    """Train a candidate (fine-tuning production, or from the ``base`` encoder), gate it, record the outcome.

    Trains on ``data`` when given, else on the seed data and the logged conversations (with their held-out
    agent labels added to the seed evaluation set). A promoted candidate becomes current and the replicas
    are told; a refused one is recorded as rejected. ``force`` promotes whatever the gate says. ``tolerance``
    and ``min_support`` default to the settings' ``retrain_tolerance`` and ``retrain_min_support``.
    """
    tolerance = settings.retrain_tolerance if tolerance is None else tolerance
    min_support = settings.retrain_min_support if min_support is None else min_support
    if tolerance < 0 or min_support < 0:
        raise ValueError("tolerance and min_support must be >= 0")
    eval_file = settings.seed_dir / EVAL_FILE
    if not eval_file.is_file():  # checked before training: no training run without a way to judge it
        raise SeedDataMissing(f"evaluation set not found: {eval_file}; run `helpline setup` or set HELPLINE_SEED_DIR")
    with transcript_store(settings) as store:
        registry = ModelRegistry(settings.models_dir)
        served = catalog.production_version(store, registry)
        production = registry.root / served if served else None
        if start == "production" and production is None:
            if note is not None:
                note(NO_PRODUCTION_NOTE)
            start = "base"
        started = utcnow()
        train_examples, evaluation, summary, quoted = _training_sets(settings, store, data)
        plan = RetrainPlan(
            train=train_examples, eval=evaluation, out_dir=registry.new_version_path(),
            args=training_arguments(production, epochs=epochs, device=settings.device),
            production=production, start=start, encoder_path=settings.encoder_path,
            tolerance=tolerance, min_support=min_support, force=force, data_summary=summary,
        )
        result = retrain(plan, progress=progress)
        # a conversation erased while training ran was not in the files the erasure scrubbed: this report is new
        if late := erased_since(store, started - CLOCK_SLACK) & quoted.keys():
            with files_lock(settings):
                scrub_report(result.report, {text for conversation in late for text in quoted[conversation]})
        decision = result.decision.to_dict()
        catalog.register_candidate(
            store, result.version, trained_from=result.trained_from, data_summary=summary,
            metrics=result.candidate.metrics,
            baseline_metrics=result.baseline.metrics if result.baseline else None,
            report_path=str(result.report.resolve()),
        )
        if result.decision.promote:
            catalog.promote(store, registry, result.version, decision)
            notify_replicas(settings, "model")
        else:
            catalog.reject(store, result.version, decision)
    return Retrained(
        result.version, result.trained_from, result.decision, result.candidate.metrics,
        result.baseline.metrics if result.baseline else None, result.report, summary,
    )
