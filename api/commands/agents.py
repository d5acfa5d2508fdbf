"""`helpline agents add NAME`: create a console account; the password is prompted, or read from standard input."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.commands import print_json
from bot.settings import Settings


def read_new_password() -> str:
    """The new agent's password: prompted twice on a terminal, else the first line of standard input."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != password:
        raise ValueError("the passwords do not match")
    return password


def cmd_agents_add(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.agents import add_agent

    password = read_new_password()
    print_json(add_agent(settings, args.name, password, args.role, args.display_name).to_dict())
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-command to the `helpline` parser."""
    agents = sub.add_parser("agents", help="console accounts").add_subparsers(dest="agents_command", required=True)
    add = agents.add_parser("add", help="create an agent; the password is prompted (or read from standard input)")
    add.add_argument("name", help="login name")
    add.add_argument("--role", choices=["agent", "admin"], default="agent")
    add.add_argument("--display-name", help="the name customers and colleagues see; default NAME")
    add.set_defaults(func=cmd_agents_add)
