"""What retention removes, as queries: conversations idle since a moment, and login records older than one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.store.models import AgentSession, Conversation, LoginAttempt
from bot.store.transcripts import TranscriptStore


def idle_conversations(store: TranscriptStore, idle_before: datetime, limit: int) -> list[str]:
    """Up to ``limit`` conversations with no activity since ``idle_before``, the longest idle first."""
    with store.session() as session:
        return list(session.scalars(
            select(Conversation.id).where(Conversation.updated_at < idle_before)
            .order_by(Conversation.updated_at, Conversation.id).limit(limit)
        ))


def count_idle_conversations(store: TranscriptStore, idle_before: datetime) -> int:
    with store.session() as session:
        idle = select(func.count()).select_from(Conversation).where(Conversation.updated_at < idle_before)
        return int(session.scalar(idle) or 0)


def _login_filters(before: datetime) -> tuple[tuple[str, Any, Any], ...]:
    return (
        ("login_attempts", LoginAttempt, LoginAttempt.created_at < before),
        ("agent_sessions", AgentSession, AgentSession.expires_at < before),  # expired that long ago
    )


def count_old_logins(store: TranscriptStore, before: datetime) -> dict[str, int]:
    """How many login attempts were made, and sessions expired, before ``before``."""
    with store.session() as session:
        return {table: int(session.scalar(select(func.count()).select_from(model).where(where)) or 0)
                for table, model, where in _login_filters(before)}


def delete_old_logins(session: Session, before: datetime) -> dict[str, int]:
    """Delete login attempts made, and sessions expired, before ``before`` (a write job); the counts."""
    return {
        table: int(getattr(session.execute(
            delete(model).where(where).execution_options(synchronize_session=False)), "rowcount", 0))
        for table, model, where in _login_filters(before)
    }
