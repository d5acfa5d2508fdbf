"""Agent accounts on real SQLite and real PostgreSQL: hashes, sessions, expiry, throttled logins."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.store.models import Agent, AgentSession, LoginAttempt, utcnow
from bot.store.tokens import hash_token
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import (
    KNOWN_FOR,
    WIDE_FAILURES,
    Accounts,
    AgentExists,
    InvalidCredentials,
    InvalidSession,
    LoginThrottled,
    WeakPassword,
    hash_password,
    retry_delay,
    verify_password,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(store: TranscriptStore) -> Accounts:
    return Accounts(store, session_hours=12)


def test_password_hash_is_salted_scrypt() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second  # a fresh salt each time
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1") and salt and digest
    assert verify_password(PASSWORD, first) and not verify_password("wrong password", first)
    assert not verify_password(PASSWORD, "bcrypt$whatever") and not verify_password(PASSWORD, "garbage")


def test_agents_are_added_listed_and_unique(accounts: Accounts) -> None:
    maya = accounts.add_agent("maya", PASSWORD, "agent", "Maya")
    accounts.add_agent("root", PASSWORD, "admin")
    assert (maya.name, maya.display_name, maya.role, maya.is_admin) == ("maya", "Maya", "agent", False)
    listed = accounts.list_agents()
    assert [(a["name"], a["display_name"], a["role"]) for a in listed] == [
        ("maya", "Maya", "agent"), ("root", "root", "admin")
    ]
    assert all("password" not in key for a in listed for key in a)
    with pytest.raises(AgentExists):
        accounts.add_agent("maya", PASSWORD)
    with pytest.raises(WeakPassword):
        accounts.add_agent("short", "1234567")
    with pytest.raises(ValueError, match="role"):
        accounts.add_agent("boss", PASSWORD, "owner")
    with pytest.raises(ValueError, match="name"):
        accounts.add_agent("has space", PASSWORD)
    with accounts.store.session() as session:
        stored = session.query(Agent).filter_by(name="maya").one().password_hash
    assert stored.startswith("scrypt$") and PASSWORD not in stored


def test_login_gives_a_session_that_logout_and_expiry_end(accounts: Accounts) -> None:
    maya = accounts.add_agent("maya", PASSWORD, display_name="Maya")
    token, agent = accounts.login("maya", PASSWORD, "10.0.0.1")
    assert agent == maya and accounts.agent_for_token(token) == maya
    with accounts.store.session() as session:  # only the token's hash is stored
        assert session.get(AgentSession, hash_token(token)) is not None
        assert session.get(AgentSession, token) is None
    with pytest.raises(InvalidSession):
        accounts.agent_for_token("not-a-token")
    with pytest.raises(InvalidSession):
        accounts.agent_for_token("")
    accounts.logout(token)
    with pytest.raises(InvalidSession):
        accounts.agent_for_token(token)

    token, _ = accounts.login("maya", PASSWORD)
    with accounts.store.session() as session, session.begin():
        session.execute(
            update(AgentSession).where(AgentSession.token_hash == hash_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(InvalidSession):
        accounts.agent_for_token(token)


def test_session_lasts_the_configured_hours(store: TranscriptStore) -> None:
    accounts = Accounts(store, session_hours=2)
    accounts.add_agent("maya", PASSWORD)
    token, _ = accounts.login("maya", PASSWORD)
    with store.session() as session:
        expires = session.get(AgentSession, hash_token(token)).expires_at  # type: ignore[union-attr]
    from bot.store.models import as_utc

    assert timedelta(hours=1, minutes=59) < as_utc(expires) - utcnow() <= timedelta(hours=2)


def test_disabled_agent_cannot_log_in_or_use_a_session(accounts: Accounts) -> None:
    accounts.add_agent("maya", PASSWORD)
    token, _ = accounts.login("maya", PASSWORD)
    with accounts.store.session() as session, session.begin():
        session.execute(update(Agent).where(Agent.name == "maya").values(disabled=True))
    with pytest.raises(InvalidSession):
        accounts.agent_for_token(token)
    with pytest.raises(InvalidCredentials):
        accounts.login("maya", PASSWORD)


def test_repeated_failures_are_throttled_logged_and_stored(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    accounts.add_agent("maya", PASSWORD)
    with caplog.at_level(logging.WARNING, logger="bot.workspace.accounts"):
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                accounts.login("maya", "guess-guess", "10.0.0.9")
        with pytest.raises(LoginThrottled) as first:
            accounts.login("maya", PASSWORD, "10.0.0.9")  # even the right password waits now, from there
        with pytest.raises(LoginThrottled) as second:
            accounts.login("maya", PASSWORD, "10.0.0.9")
    assert 0 < first.value.retry_after <= 30 < second.value.retry_after <= 60  # the wait grows
    assert sum("failed agent login for 'maya'" in r.getMessage() for r in caplog.records) == 7
    attempts = accounts.attempts("maya")
    assert [a["ok"] for a in attempts] == [False] * 7 and attempts[0]["remote"] == "10.0.0.9"
    # five guesses from one place do not lock the account out of everywhere
    assert accounts.login("maya", PASSWORD, "10.0.0.8")[1].name == "maya"


def test_one_name_guessed_from_many_addresses_is_slowed_except_where_it_logs_in(accounts: Accounts) -> None:
    accounts.add_agent("maya", PASSWORD)
    accounts.login("maya", PASSWORD, "10.0.0.1")  # her usual place
    for n in range(WIDE_FAILURES):  # a botnet: one guess an address, never the pair's limit
        with pytest.raises(InvalidCredentials):
            accounts.login("maya", "guess-guess", f"198.51.100.{n}")
    with pytest.raises(LoginThrottled):
        accounts.login("maya", PASSWORD, "198.51.100.200")  # the next guess from a new address waits
    assert accounts.login("maya", PASSWORD, "10.0.0.1")[1].name == "maya"  # she is not locked out


def test_many_names_from_one_address_are_slowed_except_accounts_known_there(accounts: Accounts) -> None:
    for name in ("maya", "sam", "lee"):
        accounts.add_agent(name, PASSWORD)
    accounts.login("maya", PASSWORD, "10.0.0.9")  # maya works from the address the spray comes from
    for n in range(WIDE_FAILURES):  # spraying: one password against many names, or a fuzzing run's random ones
        with pytest.raises(InvalidCredentials):
            accounts.login(f"user{n}", "Winter2026!", "10.0.0.9")
    with pytest.raises(LoginThrottled):
        accounts.login("sam", PASSWORD, "10.0.0.9")  # a name never used there waits, right password or not
    assert accounts.login("sam", PASSWORD, "10.0.0.7")[1].name == "sam"  # elsewhere it goes through
    assert accounts.login("maya", PASSWORD, "10.0.0.9")[1].name == "maya"  # the known account is spared
    with pytest.raises(LoginThrottled):  # and its success does not reset the address for the others
        accounts.login("lee", PASSWORD, "10.0.0.9")


def test_a_known_address_is_forgotten_after_a_while(accounts: Accounts) -> None:
    accounts.add_agent("maya", PASSWORD)
    accounts.login("maya", PASSWORD, "10.0.0.1")
    with accounts.store.session() as session, session.begin():
        session.execute(update(LoginAttempt).values(created_at=utcnow() - KNOWN_FOR - timedelta(minutes=1)))
    for n in range(WIDE_FAILURES):
        with pytest.raises(InvalidCredentials):
            accounts.login(f"user{n}", "guess-guess", "10.0.0.1")
    with pytest.raises(LoginThrottled):
        accounts.login("maya", PASSWORD, "10.0.0.1")


def test_throttling_ends_after_the_wait_and_success_resets_it(accounts: Accounts) -> None:
    accounts.add_agent("maya", PASSWORD)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            accounts.login("maya", "guess-guess")
    assert accounts.throttle("maya", None) > 0
    with accounts.store.session() as session, session.begin():  # let the wait pass
        session.execute(update(LoginAttempt).values(created_at=utcnow() - timedelta(seconds=31)))
    assert accounts.throttle("maya", None) == 0
    accounts.login("maya", PASSWORD)
    with pytest.raises(InvalidCredentials):  # counted afresh after a success
        accounts.login("maya", "guess-guess")
    assert accounts.throttle("maya", None) == 0


def test_unknown_names_fail_like_wrong_passwords(accounts: Accounts) -> None:
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            accounts.login("nobody", "guess-guess")
    with pytest.raises(LoginThrottled):
        accounts.login("nobody", "guess-guess")


def test_retry_delay_doubles_up_to_the_window() -> None:
    assert [retry_delay(n) for n in (0, 4, 5, 6, 7, 20)] == [0, 0, 30, 60, 120, 900]
    assert [retry_delay(n, WIDE_FAILURES) for n in (19, 20, 21)] == [0, 30, 60]
