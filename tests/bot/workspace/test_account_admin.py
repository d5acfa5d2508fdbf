"""What admins do to accounts, on real SQLite and real PostgreSQL: disable and enable, reset a password, revoke
and list sessions, the refusals that keep an admin in charge, and the log of every change."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.store.models import AgentSession, utcnow
from bot.store.tokens import hash_token
from bot.store.transcripts import TranscriptStore
from bot.workspace.account_admin import AccountAdmin, AdminLockout, UnknownAgent
from bot.workspace.accounts import Accounts, AgentInfo, InvalidCredentials, InvalidSession, WeakPassword

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def accounts(store: TranscriptStore) -> Accounts:
    return Accounts(store, session_hours=12)


@pytest.fixture
def root(accounts: Accounts) -> AgentInfo:
    accounts.add_agent("maya", PASSWORD, "agent", "Maya")
    accounts.add_agent("sam", PASSWORD, "agent", "Sam")
    return accounts.add_agent("root", PASSWORD, "admin", "Ada")


def refused(accounts: Accounts, token: str) -> bool:
    try:
        accounts.agent_for_token(token)
    except InvalidSession:
        return True
    return False


def test_a_disabled_agent_is_logged_out_and_cannot_log_in_until_enabled(accounts: Accounts, root: AgentInfo) -> None:
    first, _ = accounts.login("maya", PASSWORD)
    second, _ = accounts.login("maya", PASSWORD)
    sams, _ = accounts.login("sam", PASSWORD)
    admin = AccountAdmin(accounts.store, root)

    change = admin.disable("maya")

    assert change.revoked == 2 and change.agent["name"] == "maya" and change.agent["disabled"] is True
    assert refused(accounts, first) and refused(accounts, second)
    assert accounts.agent_for_token(sams).name == "sam"  # nobody else is touched
    with pytest.raises(InvalidCredentials):
        accounts.login("maya", PASSWORD)
    assert next(a for a in accounts.list_agents() if a["name"] == "maya")["disabled"] is True

    enabled = admin.enable("maya")
    assert enabled.agent["disabled"] is False and enabled.revoked == 0
    assert refused(accounts, first)  # the old sessions stay ended
    token, agent = accounts.login("maya", PASSWORD)
    assert agent.name == "maya" and accounts.agent_for_token(token).name == "maya"


def test_a_reset_password_ends_old_sessions_and_the_new_one_works(accounts: Accounts, root: AgentInfo) -> None:
    old, _ = accounts.login("maya", PASSWORD)
    admin = AccountAdmin(accounts.store, root)
    with pytest.raises(WeakPassword):
        admin.reset_password("maya", "short")
    assert accounts.agent_for_token(old).name == "maya"  # a refused reset changes nothing

    change = admin.reset_password("maya", NEW_PASSWORD)

    assert change.revoked == 1 and refused(accounts, old)
    with pytest.raises(InvalidCredentials):
        accounts.login("maya", PASSWORD)
    token, _ = accounts.login("maya", NEW_PASSWORD)
    assert accounts.agent_for_token(token).name == "maya"


def test_revoking_ends_every_live_session_and_lists_none(accounts: Accounts, root: AgentInfo) -> None:
    tokens = [accounts.login("maya", PASSWORD)[0] for _ in range(3)]
    with accounts.store.session() as session, session.begin():  # one of them expired already
        session.execute(update(AgentSession).where(AgentSession.token_hash == hash_token(tokens[0]))
                        .values(expires_at=utcnow() - timedelta(minutes=1)))
    admin = AccountAdmin(accounts.store, root)

    listed = admin.sessions("maya")

    assert len(listed) == 2 and all(set(s) == {"created_at", "expires_at"} for s in listed)
    shown = repr(listed)
    assert not any(t in shown or hash_token(t) in shown for t in tokens)  # never the token nor its hash
    assert listed[0]["created_at"] <= listed[1]["created_at"] < listed[0]["expires_at"]
    assert admin.revoke_sessions("maya").revoked == 2  # the live ones
    assert all(refused(accounts, t) for t in tokens) and admin.sessions("maya") == []
    assert accounts.login("maya", PASSWORD)[1].name == "maya"  # revoking is not disabling


def test_unknown_names_are_refused(accounts: Accounts, root: AgentInfo) -> None:
    admin = AccountAdmin(accounts.store, root)
    for change in (admin.disable, admin.enable, admin.revoke_sessions, admin.sessions):
        with pytest.raises(UnknownAgent, match="nobody"):
            change("nobody")
    with pytest.raises(UnknownAgent):
        admin.reset_password("nobody", NEW_PASSWORD)


def test_an_admin_cannot_disable_themselves_nor_the_last_enabled_admin(accounts: Accounts, root: AgentInfo) -> None:
    token, _ = accounts.login("root", PASSWORD)
    with pytest.raises(AdminLockout, match="your own account"):
        AccountAdmin(accounts.store, root).disable("root")
    with pytest.raises(AdminLockout, match="last enabled admin"):  # the command line has no "self", but this rule
        AccountAdmin(accounts.store).disable("root")
    assert accounts.agent_for_token(token).name == "root"  # nothing changed

    lee = accounts.add_agent("lee", PASSWORD, "admin", "Lee")
    assert AccountAdmin(accounts.store, lee).disable("root").agent["disabled"] is True  # another admin may
    with pytest.raises(AdminLockout, match="last enabled admin"):
        AccountAdmin(accounts.store).disable("lee")
    AccountAdmin(accounts.store, lee).enable("root")
    AccountAdmin(accounts.store).disable("lee")
    assert [a["name"] for a in accounts.list_agents() if a["role"] == "admin" and not a["disabled"]] == ["root"]


def disable_at_once(accounts: Accounts, start: threading.Barrier, outcomes: dict[str, str], actor: AgentInfo,
                    target: str) -> None:
    start.wait()
    try:
        AccountAdmin(accounts.store, actor).disable(target)
        outcomes[target] = "disabled"
    except AdminLockout:
        outcomes[target] = "refused"


def test_two_admins_disabling_each_other_at_once_leave_one_enabled(accounts: Accounts, root: AgentInfo) -> None:
    lee = accounts.add_agent("lee", PASSWORD, "admin", "Lee")
    for _ in range(3):
        start = threading.Barrier(2)
        outcomes: dict[str, str] = {}
        threads = [threading.Thread(target=disable_at_once, args=(accounts, start, outcomes, actor, target))
                   for actor, target in ((root, "lee"), (lee, "root"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(outcomes.values()) == ["disabled", "refused"], outcomes
        enabled = [a["name"] for a in accounts.list_agents() if a["role"] == "admin" and not a["disabled"]]
        assert len(enabled) == 1
        AccountAdmin(accounts.store).enable("lee")
        AccountAdmin(accounts.store).enable("root")


def test_every_change_is_logged_with_who_did_what_to_whom_and_no_password(
    accounts: Accounts, root: AgentInfo, caplog: pytest.LogCaptureFixture
) -> None:
    accounts.login("maya", PASSWORD)
    with caplog.at_level(logging.INFO, logger="bot.workspace.account_admin"):
        AccountAdmin(accounts.store, root).reset_password("maya", NEW_PASSWORD)
        AccountAdmin(accounts.store, root).disable("maya")
        AccountAdmin(accounts.store).enable("maya")
        AccountAdmin(accounts.store, root).revoke_sessions("sam")
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.workspace.account_admin"]
    assert lines == [
        "account change: admin 'root' reset the password of agent 'maya'; 1 session ended",
        "account change: admin 'root' disabled agent 'maya'",
        "account change: the command line enabled agent 'maya'",
        "account change: admin 'root' revoked the sessions of agent 'sam'",
    ]
    assert NEW_PASSWORD not in caplog.text and PASSWORD not in caplog.text
