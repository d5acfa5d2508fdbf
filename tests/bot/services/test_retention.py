"""The retention pass on real SQLite and PostgreSQL: old conversations and login records go, recent ones stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.services.retention import RETENTION, purge_expired
from bot.settings import Settings
from bot.store.erasure import erasure_of, existing
from bot.store.models import AgentSession, LoginAttempt, utcnow
from bot.store.tokens import hash_token
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts, InvalidSession
from tests.conversations import fill_conversation, make_idle, table_counts

PASSWORD = "correct horse battery"


def retention(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path / "var", **values)  # type: ignore[arg-type]


def age_logins(store: TranscriptStore, tokens: dict[str, float]) -> None:
    """Data setup: each session (by token) expired that many days ago, and its login attempt made then."""
    with store.session() as session, session.begin():
        for token, days in tokens.items():
            moment = utcnow() - timedelta(days=days)
            session.execute(update(AgentSession).where(AgentSession.token_hash == hash_token(token))
                            .values(expires_at=moment, created_at=moment))
        session.execute(update(LoginAttempt).where(LoginAttempt.name == "old").values(
            created_at=utcnow() - timedelta(days=100)))


def test_old_conversations_and_login_records_go_and_recent_ones_stay(store: TranscriptStore, tmp_path: Path) -> None:
    accounts = Accounts(store)
    agent = accounts.add_agent("maya", PASSWORD).id
    accounts.add_agent("old", PASSWORD)
    stale, quiet, fresh = (fill_conversation(store, agent, name) for name in ("anna", "ben", "cleo"))
    make_idle(store, stale.id, utcnow() - timedelta(days=31))
    make_idle(store, quiet.id, utcnow() - timedelta(days=29))
    expired_long_ago, _ = accounts.login("old", PASSWORD)
    expired_lately, _ = accounts.login("maya", PASSWORD)
    live, _ = accounts.login("maya", PASSWORD)
    age_logins(store, {expired_long_ago: 100, expired_lately: 2})
    settings = retention(tmp_path, retention_days=30, login_retention_days=90)
    before = table_counts(store)

    planned = purge_expired(settings, store, dry_run=True)

    assert table_counts(store) == before
    assert planned.to_dict()["conversations"] == 1
    assert planned.logins == {"login_attempts": 1, "agent_sessions": 1}

    done = purge_expired(settings, store)

    assert existing(store, [stale.id, quiet.id, fresh.id]) == {quiet.id, fresh.id}
    record = erasure_of(store, stale.id)
    assert record is not None and record.erased_by == RETENTION and record.counts["messages"] == 6
    assert done.conversations == 1 and done.erased == (stale.id,)
    assert done.logins == {"login_attempts": 1, "agent_sessions": 1}
    with store.session() as session:
        assert session.scalars(select(LoginAttempt.name)).all() == ["maya", "maya"]
        assert len(session.scalars(select(AgentSession)).all()) == 2
    assert accounts.agent_for_token(live).name == "maya"
    with pytest.raises(InvalidSession):
        accounts.agent_for_token(expired_lately)  # kept as a record, but expired all the same

    again = purge_expired(settings, store)
    assert again.conversations == 0 and again.logins == {"login_attempts": 0, "agent_sessions": 0}


def test_transcripts_are_kept_unless_retention_is_set(store: TranscriptStore, tmp_path: Path) -> None:
    agent = Accounts(store).add_agent("maya", PASSWORD).id
    ancient = fill_conversation(store, agent, "anna")
    make_idle(store, ancient.id, utcnow() - timedelta(days=3650))
    settings = retention(tmp_path)
    assert settings.retention_days is None and settings.login_retention_days == 90

    report = purge_expired(settings, store)

    assert existing(store, [ancient.id]) == {ancient.id} and report.conversations == 0
    assert report.to_dict()["transcripts_before"] is None and report.to_dict()["logins_before"] is not None
    off = purge_expired(retention(tmp_path, login_retention_days=""), store)
    assert off.logins_before is None and off.logins == {}


def test_retention_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        Settings(retention_days=0)
    with pytest.raises(ValueError):
        Settings(retention_interval_seconds=0)
    assert Settings(retention_days=" ").retention_days is None  # type: ignore[arg-type]
