"""`helpline models list | promote VERSION | rollback`: the model catalog (database rows + registry folders)."""

from __future__ import annotations

import argparse
from typing import Any

from api.commands import print_json
from bot.settings import Settings


def _score(metrics: dict[str, Any] | None, key: str) -> str:
    value = (metrics or {}).get(key)
    return f"{value:.4f}" if isinstance(value, float) else "-"


def _verdict(decision: dict[str, Any]) -> str:
    if not decision:
        return "-"
    return "forced" if decision.get("forced") else "promote" if decision.get("promote") else "refused"


def cmd_models_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.model_versions import list_models

    catalog = list_models(settings)
    print(f"{'version':<26} {'status':<10} {'from':<26} {'accuracy':>8} {'macro_f1':>8}  decision")
    for row in catalog.versions:
        print(f"{row['version']:<26} {row['status']:<10} {row['trained_from'] or '-':<26} "
              f"{_score(row['metrics'], 'accuracy'):>8} {_score(row['metrics'], 'macro_f1'):>8}  "
              f"{_verdict(row['decision'] or {})}")
    print_json({"production": catalog.production, "versions": catalog.versions})
    return 0


def cmd_models_promote(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.model_versions import promote_model

    change = promote_model(settings, args.version)
    print(f"{change.production} is now in production (was {change.previous or 'none'}); the gate was skipped")
    print_json({"production": change.production, "previous": change.previous, "forced": True})
    return 0


def cmd_models_rollback(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.model_versions import roll_back_model

    change = roll_back_model(settings)
    print(f"rolled back from {change.previous} to {change.production}; {change.previous} is retired")
    print_json({"production": change.production, "retired": change.previous})
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-command to the `helpline` parser."""
    models = sub.add_parser("models", help="the model catalog: list, promote, roll back").add_subparsers(
        dest="models_command", required=True
    )
    listing = models.add_parser("list", help="every model version with its status, scores and promotion decision")
    listing.set_defaults(func=cmd_models_list)
    promote = models.add_parser("promote", help="serve VERSION now, skipping the gate (recorded as forced)")
    promote.add_argument("version")
    promote.set_defaults(func=cmd_models_promote)
    rollback = models.add_parser("rollback", help="serve the previously promoted version again; retire the current")
    rollback.set_defaults(func=cmd_models_rollback)
