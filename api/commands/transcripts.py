"""`helpline transcripts export`: every logged message with its intent, route and scores, as JSONL or CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings


def cmd_transcripts_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.exports import export_transcripts

    export_transcripts(settings, Path(args.output) if args.output else sys.stdout, args.format)
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-command to the `helpline` parser."""
    tr = sub.add_parser("transcripts", help="logged conversations").add_subparsers(
        dest="transcripts_command", required=True
    )
    export = tr.add_parser("export", help="write every logged message with its intent, route and scores")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--output", "-o", help="file to write; default standard output")
    export.set_defaults(func=cmd_transcripts_export)
