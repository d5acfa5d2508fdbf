"""`helpline train` and `helpline eval`: fine-tune the intent classifier on a CSV, score a model folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from api.commands import print_json
from bot.settings import Settings


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.training import train_model

    out = Path(args.out) if args.out else None
    print_json(train_model(settings, Path(args.data), out, args.epochs).to_dict())
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.training import evaluate_model

    print_json(evaluate_model(settings, Path(args.model), Path(args.data)))
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-commands to the `helpline` parser."""
    train = sub.add_parser("train", help="fine-tune the intent classifier on a CSV (text + intent/label/category)")
    train.add_argument("--data", required=True)
    train.add_argument("--out", help="model folder; default a new version in the registry, made current")
    train.add_argument("--epochs", type=int)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("eval", help="evaluate a model folder on a labelled CSV")
    ev.add_argument("--model", required=True)
    ev.add_argument("--data", required=True)
    ev.set_defaults(func=cmd_eval)
