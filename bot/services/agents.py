"""Console accounts from the command line: create an agent (or an admin), list them, disable and enable one,
reset a password, end and list its sessions.

The command line acts as an admin on the server's machine (its changes are logged as "the command line"). It runs
in a process of its own: with ``HELPLINE_REDIS_URL`` set, the end of an agent's sessions is announced on Redis and
its sockets close at once on every replica; without it, each socket finds out at its next periodic check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.services.database import transcript_store
from bot.settings import Settings
from bot.workspace.account_admin import AccountAdmin, AccountChange, announce_sessions_ended
from bot.workspace.accounts import Accounts, AgentInfo, check_new_password


def add_agent(settings: Settings, name: str, password: str, role: str = "agent",
              display_name: str | None = None) -> AgentInfo:
    """Create the account; WeakPassword before the database is touched, AgentExists if the name is taken."""
    check_new_password(password)
    with transcript_store(settings) as store:
        return Accounts(store, settings.session_hours).add_agent(name, password, role, display_name)


def list_agents(settings: Settings) -> list[dict[str, Any]]:
    """Every account, by name (never a password hash)."""
    with transcript_store(settings) as store:
        return Accounts(store, settings.session_hours).list_agents()


def agent_sessions(settings: Settings, name: str) -> list[dict[str, Any]]:
    """The agent's live sessions: when each began and expires; UnknownAgent for a name nobody has."""
    with transcript_store(settings) as store:
        return AccountAdmin(store).sessions(name)


def _change(settings: Settings, change: Callable[[AccountAdmin], AccountChange], reason: str | None) -> AccountChange:
    with transcript_store(settings) as store:
        done = change(AccountAdmin(store))
    if reason is not None and settings.redis_url:
        _announce(settings.redis_url, done.agent_id, reason)
    return done


def _announce(redis_url: str, agent_id: int, reason: str) -> None:
    """Announce on Redis that the agent's sessions ended, for the servers' sockets to re-check at once (a command
    runs no event loop of its own)."""
    from bot.conversations.events import RedisBus

    async def publish() -> None:
        bus = RedisBus(redis_url)
        try:
            await announce_sessions_ended(bus, agent_id, reason)
        finally:
            await bus.close()

    asyncio.run(publish())


def disable_agent(settings: Settings, name: str) -> AccountChange:
    """Disable the account and end its sessions; AdminLockout when it is the last enabled admin."""
    return _change(settings, lambda admin: admin.disable(name), "disabled")


def enable_agent(settings: Settings, name: str) -> AccountChange:
    return _change(settings, lambda admin: admin.enable(name), None)


def reset_password(settings: Settings, name: str, password: str) -> AccountChange:
    """A new password (WeakPassword before the database is touched); every session of the agent ends."""
    check_new_password(password)
    return _change(settings, lambda admin: admin.reset_password(name, password), "password_reset")


def revoke_sessions(settings: Settings, name: str) -> AccountChange:
    return _change(settings, lambda admin: admin.revoke_sessions(name), "revoked")
