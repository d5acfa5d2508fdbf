"""`helpline retrain`: train a candidate on the logged data, score it beside production, promote it or not."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings

EVAL_FILE = "intents_eval.csv"


def _decision_lines(version: str, decision: dict[str, Any]) -> list[str]:
    verdict = "promoted" if decision["promote"] else "refused"
    if decision["forced"]:
        verdict += " (forced)"
    return [f"candidate {version}: {verdict}", *(f"  - {reason}" for reason in decision["reasons"])]


def cmd_retrain(args: argparse.Namespace, settings: Settings) -> int:
    from bot.learning.training_data import SeedDataMissing

    if args.tolerance < 0 or args.min_support < 0:
        raise ValueError("--tolerance and --min-support must be >= 0")
    eval_file = settings.seed_dir / EVAL_FILE
    if not eval_file.is_file():  # checked before anything loads: no training run without a way to judge it
        raise SeedDataMissing(f"evaluation set not found: {eval_file}; run `helpline setup` or set HELPLINE_SEED_DIR")

    from bot.learning import catalog
    from bot.learning.reloader import notify_replicas
    from bot.learning.training_data import dataset_from_logs
    from bot.runtime import open_store
    from training.data import load_examples
    from training.registry import ModelRegistry
    from training.retrain import RetrainPlan, retrain, training_arguments

    store = open_store(settings)
    try:
        registry = ModelRegistry(settings.models_dir)
        served = catalog.production_version(store, registry)
        production = registry.root / served if served else None
        start = args.start
        if start == "production" and production is None:
            print("No production model yet: training from the base encoder.", file=sys.stderr)
            start = "base"
        if args.data:
            train_examples, held_out = load_examples(Path(args.data)), []
            summary: dict[str, Any] = {"rows": len(train_examples), "data": str(args.data),
                                       "labels": len({e.label for e in train_examples})}
        else:
            dataset = dataset_from_logs(settings, store)
            train_examples, held_out = dataset.examples(), dataset.held_out_examples()
            summary = dataset.summary()
        evaluation = [*load_examples(eval_file), *held_out]
        summary |= {"eval_rows": len(evaluation), "eval_held_out": len(held_out)}
        plan = RetrainPlan(
            train=train_examples, eval=evaluation, out_dir=registry.new_version_path(),
            args=training_arguments(production, epochs=args.epochs, device=settings.device),
            production=production, start=start, encoder_path=settings.encoder_path,
            tolerance=args.tolerance, min_support=args.min_support, force=args.force, data_summary=summary,
        )
        result = retrain(plan, progress=not args.quiet)
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
    finally:
        store.engine.dispose()
    print("\n".join(_decision_lines(result.version, decision)))
    print(f"report: {result.report}")
    headline = ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision", "n")
    print(json.dumps({
        "version": result.version, "promoted": decision["promote"], "forced": decision["forced"],
        "reasons": decision["reasons"],
        "metrics": {k: v for k, v in result.candidate.metrics.items() if k in headline},
        "baseline_metrics": {k: v for k, v in result.baseline.metrics.items() if k in headline}
        if result.baseline else None,
        "report": str(result.report),
    }))
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-command to the `helpline` parser."""
    parser = sub.add_parser(
        "retrain", help="train a candidate model, evaluate it beside production, promote it if it is not worse"
    )
    parser.add_argument("--from", dest="start", choices=["production", "base"], default="production",
                        help="fine-tune the production model (default) or start from the base encoder")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs; default production's setting")
    parser.add_argument("--tolerance", type=float, default=0.01,
                        help="largest drop allowed in accuracy, macro-F1 and per-intent F1 (default 0.01)")
    parser.add_argument("--min-support", type=int, default=10,
                        help="evaluation rows an intent needs for its F1 to be gated (default 5)")
    parser.add_argument("--force", action="store_true", help="promote even if the gate refuses (recorded as forced)")
    parser.add_argument("--data", help="train on this CSV (text,intent) instead of the seed data and the logs")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=cmd_retrain)
