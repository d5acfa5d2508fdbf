"""`helpline models list | promote VERSION | rollback`: the model catalog (database rows + registry folders)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.store.transcripts import TranscriptStore
    from training.registry import ModelRegistry


def _catalog(settings: Settings) -> tuple[TranscriptStore, ModelRegistry]:
    """The database (schema brought up to date) and the registry; no model or encoder is loaded."""
    from bot.store.db import make_engine, migrate
    from bot.store.transcripts import TranscriptStore
    from training.registry import ModelRegistry

    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return TranscriptStore(engine), ModelRegistry(settings.models_dir)


def _score(metrics: dict[str, Any] | None, key: str) -> str:
    value = (metrics or {}).get(key)
    return f"{value:.4f}" if isinstance(value, float) else "-"


def cmd_models_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.learning import catalog

    store, registry = _catalog(settings)
    try:
        versions = catalog.list_versions(store, registry)
        production = catalog.production_version(store, registry)
    finally:
        store.engine.dispose()
    print(f"{'version':<26} {'status':<10} {'from':<26} {'accuracy':>8} {'macro_f1':>8}  decision")
    for row in versions:
        decision = row["decision"] or {}
        verdict = ("forced" if decision.get("forced") else "promote" if decision.get("promote") else
                   "refused" if decision else "-")
        print(f"{row['version']:<26} {row['status']:<10} {row['trained_from'] or '-':<26} "
              f"{_score(row['metrics'], 'accuracy'):>8} {_score(row['metrics'], 'macro_f1'):>8}  {verdict}")
    print(json.dumps({"production": production, "versions": versions}))
    return 0


def cmd_models_promote(args: argparse.Namespace, settings: Settings) -> int:
    from bot.learning import catalog
    from bot.learning.reloader import notify_replicas

    store, registry = _catalog(settings)
    try:
        before = catalog.production_version(store, registry)
        catalog.promote_by_hand(store, registry, args.version)
    finally:
        store.engine.dispose()
    notify_replicas(settings, "model")
    print(f"{args.version} is now in production (was {before or 'none'}); the gate was skipped")
    print(json.dumps({"production": args.version, "previous": before, "forced": True}))
    return 0


def cmd_models_rollback(args: argparse.Namespace, settings: Settings) -> int:
    from bot.learning import catalog
    from bot.learning.reloader import notify_replicas

    store, registry = _catalog(settings)
    try:
        before = catalog.production_version(store, registry)
        version = catalog.rollback(store, registry)
    finally:
        store.engine.dispose()
    notify_replicas(settings, "model")
    print(f"rolled back from {before} to {version}; {before} is retired")
    print(json.dumps({"production": version, "retired": before}))
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
