"""`helpline dataset build`: the next training set from the seed data and the logged conversations."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.settings import Settings


def held_out_path(out: Path) -> Path:
    """Where the held-out agent-labelled rows go beside a training set: ``train.csv`` → ``train.held_out.csv``."""
    return out.with_name(f"{out.stem}.held_out{out.suffix or '.csv'}")


def cmd_dataset_build(args: argparse.Namespace, settings: Settings) -> int:
    from bot.learning.training_data import dataset_from_logs
    from bot.store.db import make_engine, migrate
    from bot.store.transcripts import TranscriptStore

    if args.floor is not None and not 0.0 <= args.floor <= 1.0:
        raise ValueError(f"--floor must be between 0 and 1, got {args.floor}")
    engine = make_engine(settings.resolved_database_url)  # no model to load
    try:
        migrate(engine)
        dataset = dataset_from_logs(settings, TranscriptStore(engine), weak_floor=args.floor)
    finally:
        engine.dispose()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else settings.data_dir / "datasets" / f"dataset-{stamp}.csv"
    dataset.write_csv(out)
    held_out = dataset.write_csv(held_out_path(out), held_out=True)
    summary = dataset.summary()
    for source, count in summary["by_source"].items():
        print(f"{source:>16}: {count} rows")
    print(json.dumps({**summary, "out": str(out), "held_out_out": str(held_out)}))
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
