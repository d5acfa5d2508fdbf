"""Create console accounts in-process: the agent can log in; weak passwords and taken names are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.agents import add_agent
from bot.services.database import transcript_store
from bot.settings import Settings
from bot.workspace.accounts import Accounts, AgentExists, WeakPassword

PASSWORD = "correct horse battery"


def test_an_added_agent_can_log_in(empty_settings: Settings) -> None:
    agent = add_agent(empty_settings, "maya", PASSWORD, "admin", "Maya K")
    assert (agent.name, agent.role, agent.display_name) == ("maya", "admin", "Maya K")
    with transcript_store(empty_settings) as store:
        _, logged_in = Accounts(store).login("maya", PASSWORD)
    assert logged_in.id == agent.id and logged_in.is_admin


def test_a_weak_password_is_refused_before_the_database_and_a_name_only_once(
        empty_settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(WeakPassword, match="at least 8 characters"):
        add_agent(empty_settings, "sam", "1234567")
    assert not (tmp_path / "helpline.db").exists()
    add_agent(empty_settings, "sam", PASSWORD)
    with pytest.raises(AgentExists, match="already exists"):
        add_agent(empty_settings, "sam", PASSWORD)
    with transcript_store(empty_settings) as store:
        assert [a["role"] for a in Accounts(store).list_agents()] == ["agent"]
