"""`helpline import rasa`: turn a Rasa 3.x project into a Helpline company folder, with a report of what stayed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from api.commands import print_json
from bot.settings import Settings


def cmd_import_rasa(args: argparse.Namespace, settings: Settings) -> int:
    from bot.rasa.importer import import_project

    result = import_project(Path(args.project), Path(args.out) if args.out else None, force=args.force)
    print(f"Imported {result.project.name} into {result.out}")
    print("Carried over:")
    for line in result.carried:
        print(f"  - {line}")
    print("Not carried over:")
    for line in result.not_carried or ["nothing"]:
        print(f"  - {line}")
    print(f"Report: {result.out / 'import_report.md'}; next: helpline setup --company {result.out}")
    print_json(result.to_dict())
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-commands to the `helpline` parser."""
    kinds = sub.add_parser("import", help="make a company folder from another bot's project")
    rasa = kinds.add_subparsers(dest="import_kind", required=True).add_parser(
        "rasa", help="a Rasa 3.x project: domain, NLU data, rules, endpoints")
    rasa.add_argument("project", help="the Rasa project folder (with domain.yml or domain/, data/, endpoints.yml)")
    rasa.add_argument("--out", default=None, help="the company folder to write (default ./<project>-helpline)")
    rasa.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    rasa.set_defaults(func=cmd_import_rasa)
