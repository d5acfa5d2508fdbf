"""`helpline dataset build`: the next training set from the seed data and the logged conversations."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from api.commands import print_json
from bot.settings import Settings


def cmd_dataset_build(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.datasets import build_training_set

    if args.floor is not None and not 0.0 <= args.floor <= 1.0:
        raise ValueError(f"--floor must be between 0 and 1, got {args.floor}")
    written = build_training_set(settings, Path(args.out) if args.out else None, args.floor)
    for source, count in written.summary["by_source"].items():
        print(f"{source:>16}: {count} rows")
    print_json(written.to_dict())
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-command to the `helpline` parser."""
    dataset = sub.add_parser("dataset", help="training data from logged conversations").add_subparsers(
        dest="dataset_command", required=True
    )
    build = dataset.add_parser(
        "build", help="write the next training set: seed data, agent labels and weak labels, deduplicated, redacted"
    )
    build.add_argument("--out",
                       help="CSV to write (text,intent,source); default <data_dir>/datasets/dataset-<time>.csv")
    build.add_argument("--floor", type=float, default=None,
                       help="confidence floor for weak labels; default HELPLINE_WEAK_LABEL_FLOOR")
    build.set_defaults(func=cmd_dataset_build)
