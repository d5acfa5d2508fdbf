"""`helpline faq ingest` and `helpline eval-retrieval`: replace the served FAQ with a file, score the retriever."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from api.commands import print_json
from bot.settings import Settings


def cmd_faq_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.faq import ingest_faq

    report = ingest_faq(settings, Path(args.file))
    print_json({"ingested": report.count, "version": report.version, "categories": report.categories})
    return 0


def cmd_eval_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.faq import evaluate_retrieval_files

    print_json(evaluate_retrieval_files(settings, Path(args.faq), Path(args.queries)))
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-commands to the `helpline` parser."""
    faq = sub.add_parser("faq", help="manage the FAQ").add_subparsers(dest="faq_command", required=True)
    ingest = faq.add_parser("ingest", help="validate a CSV/JSONL FAQ and replace the served one with it")
    ingest.add_argument("file")
    ingest.set_defaults(func=cmd_faq_ingest)

    er = sub.add_parser("eval-retrieval", help="top-1, MRR@10 and recall@5 of the retriever on a query set")
    er.add_argument("--faq", required=True)
    er.add_argument("--queries", required=True)
    er.set_defaults(func=cmd_eval_retrieval)
