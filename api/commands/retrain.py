"""`helpline retrain`: train a candidate on the logged data, score it beside production, promote it or not."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from api.commands import note, print_json
from bot.settings import Settings


def cmd_retrain(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.retraining import retrain_with_gate

    if (args.tolerance or 0) < 0 or (args.min_support or 0) < 0:
        raise ValueError("--tolerance and --min-support must be >= 0")
    done = retrain_with_gate(
        settings, start=args.start, epochs=args.epochs, tolerance=args.tolerance, min_support=args.min_support,
        force=args.force, data=Path(args.data) if args.data else None, progress=not args.quiet, note=note,
    )
    verdict = "promoted" if done.decision.promote else "refused"
    if done.decision.forced:
        verdict += " (forced)"
    print("\n".join([f"candidate {done.version}: {verdict}", *(f"  - {reason}" for reason in done.decision.reasons)]))
    print(f"report: {done.report}")
    print_json(done.to_dict())
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-command to the `helpline` parser."""
    parser = sub.add_parser(
        "retrain", help="train a candidate model, evaluate it beside production, promote it if it is not worse"
    )
    parser.add_argument("--from", dest="start", choices=["production", "base"], default="production",
                        help="fine-tune the production model (default) or start from the base encoder")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs; default production's setting")
    parser.add_argument("--tolerance", type=float, default=None,
                        help="largest drop allowed in accuracy, macro-F1 and per-intent F1 "
                        "(default HELPLINE_RETRAIN_TOLERANCE, 0.01)")
    parser.add_argument("--min-support", type=int, default=None,
                        help="evaluation rows an intent needs for its F1 to be gated "
                        "(default HELPLINE_RETRAIN_MIN_SUPPORT, 10)")
    parser.add_argument("--force", action="store_true", help="promote even if the gate refuses (recorded as forced)")
    parser.add_argument("--data", help="train on this CSV (text,intent) instead of the seed data and the logs")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=cmd_retrain)
