"""`helpline setup`: prepare a company (replies, seed data, FAQ index, a first model) in the data dir."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from api.commands import note, print_json
from bot.settings import Settings

DEMO = Path(__file__).resolve().parents[2] / "demo"


def cmd_setup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.setup import set_up_company

    done = set_up_company(settings, Path(args.company), epochs=args.epochs, retrain=args.retrain, note=note)
    print_json(done.to_dict())
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-command to the `helpline` parser."""
    setup = sub.add_parser("setup", help="prepare a company (FAQ index, first model) in the data dir")
    setup.add_argument("--company", default=str(DEMO), help="folder with faq.jsonl, intents.csv, company.json")
    setup.add_argument("--epochs", type=int, default=None, help="training epochs for the first model")
    setup.add_argument("--retrain", action="store_true", help="train a new model even if one is served")
    setup.set_defaults(func=cmd_setup)
