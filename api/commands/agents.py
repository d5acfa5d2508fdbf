"""`helpline agents add | list | disable | enable | reset-password | revoke | sessions`: console accounts.

A password is prompted twice on a terminal, or read from the first line of standard input. The command line acts
as an admin on the server's machine, with one limit the API has too: the last enabled admin stays enabled.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.commands import print_json
from bot.settings import Settings


def read_new_password() -> str:
    """A new password: prompted twice on a terminal, else the first line of standard input."""
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


def cmd_agents_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.agents import list_agents

    agents = list_agents(settings)
    print(f"{'name':<24} {'role':<6} {'status':<9} display name")
    for agent in agents:
        status = "disabled" if agent["disabled"] else "enabled"
        print(f"{agent['name']:<24} {agent['role']:<6} {status:<9} {agent['display_name']}")
    print_json({"agents": agents})
    return 0


def cmd_agents_sessions(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.agents import agent_sessions

    sessions = agent_sessions(settings, args.name)
    for session in sessions:
        print(f"since {session['created_at']}  until {session['expires_at']}")
    print_json({"name": args.name, "sessions": sessions})
    return 0


def cmd_agents_change(args: argparse.Namespace, settings: Settings) -> int:
    """disable, enable, reset-password and revoke: one change, a line saying what it did, then the account."""
    from bot.services import agents

    if args.agents_command == "disable":
        change, said = agents.disable_agent(settings, args.name), "is disabled"
    elif args.agents_command == "enable":
        change, said = agents.enable_agent(settings, args.name), "may log in again"
    elif args.agents_command == "reset-password":
        change, said = agents.reset_password(settings, args.name, read_new_password()), "has a new password"
    else:
        change, said = agents.revoke_sessions(settings, args.name), "is logged out everywhere"
    ended = f"; {change.revoked} session{'' if change.revoked == 1 else 's'} ended" if change.revoked else ""
    print(f"{args.name} {said}{ended}")
    print_json(change.to_dict())
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-command to the `helpline` parser."""
    agents = sub.add_parser("agents", help="console accounts").add_subparsers(dest="agents_command", required=True)
    add = agents.add_parser("add", help="create an agent; the password is prompted (or read from standard input)")
    add.add_argument("name", help="login name")
    add.add_argument("--role", choices=["agent", "admin"], default="agent")
    add.add_argument("--display-name", help="the name customers and colleagues see; default NAME")
    add.set_defaults(func=cmd_agents_add)

    agents.add_parser("list", help="every account: role, enabled or disabled").set_defaults(func=cmd_agents_list)
    sessions = agents.add_parser("sessions", help="an agent's live sessions (when each began and expires)")
    sessions.add_argument("name", help="login name")
    sessions.set_defaults(func=cmd_agents_sessions)
    for command, text in (
        ("disable", "disable an account: it cannot log in, its sessions end and its sockets close"),
        ("enable", "let a disabled account log in again"),
        ("reset-password", "set a new password (prompted, or read from standard input); its sessions end"),
        ("revoke", "end every session of an account (log it out everywhere)"),
    ):
        change = agents.add_parser(command, help=text)
        change.add_argument("name", help="login name")
        change.set_defaults(func=cmd_agents_change)
