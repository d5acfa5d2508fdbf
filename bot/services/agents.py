"""Console accounts: create an agent (or an admin) who can then log in."""

from __future__ import annotations

from bot.services.database import transcript_store
from bot.settings import Settings
from bot.workspace.accounts import Accounts, AgentInfo, check_new_password


def add_agent(settings: Settings, name: str, password: str, role: str = "agent",
              display_name: str | None = None) -> AgentInfo:
    """Create the account; WeakPassword before the database is touched, AgentExists if the name is taken."""
    check_new_password(password)
    with transcript_store(settings) as store:
        return Accounts(store, settings.session_hours).add_agent(name, password, role, display_name)
