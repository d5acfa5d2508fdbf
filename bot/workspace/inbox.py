"""The agents' inbox: filtered conversations, newest first, paged by keyset cursor; transcripts and export.

Every list is one indexed query for the page plus one for its tags, whatever the page size (no N+1), and
a page deep in the inbox costs what the first one does: the cursor is the last row's (updated_at, id).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from bot.store.models import (
    Agent,
    Conversation,
    ConversationTag,
    IntentLabel,
    Message,
    Note,
    as_utc,
    iso,
)
from bot.store.transcripts import TranscriptStore, UnknownConversation
from bot.workspace.presentation import FaqQuestion, conversation_summary, message_views, summarize

STATUSES = ("all", "waiting", "mine", "flagged", "negative", "open", "closed")
OPEN_STATES = ("bot", "waiting", "agent")
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


class InvalidCursor(ValueError):
    """The cursor was not made by this inbox."""


class InvalidFilter(ValueError):
    """A filter value that cannot be understood (an unknown status, a malformed date)."""


@dataclass(frozen=True)
class InboxFilter:
    """Which conversations the inbox shows; ``agent_id`` is whose "mine" means."""

    status: str = "all"
    intent: str | None = None
    tag: str | None = None
    since: datetime | None = None  # updated at or after
    until: datetime | None = None  # created before
    q: str | None = None
    agent_id: int | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidFilter(f"status must be one of {', '.join(STATUSES)}")
        if self.status == "mine" and self.agent_id is None:
            raise InvalidFilter("status 'mine' needs the agent")


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def parse_bound(value: str | None, end: bool = False) -> datetime | None:
    """An ISO date or date-time as UTC; a bare date ``end``-of-range means the whole of that day."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=UTC)
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError) as exc:  # overflow: the day after 9999-12-31, or UTC before year 1
        raise InvalidFilter(f"not an ISO date: {value!r}") from exc


def encode_cursor(updated_at: datetime, conversation_id: str) -> str:
    raw = json.dumps([as_utc(updated_at).isoformat(), conversation_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        moment, conversation_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return as_utc(datetime.fromisoformat(moment)), str(conversation_id)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("invalid cursor") from exc


def matching(filters: InboxFilter) -> Select[Any]:
    """The ids of the conversations that pass ``filters`` (no order, no paging)."""
    return apply_filters(select(Conversation.id), filters)


def apply_filters(query: Select, f: InboxFilter) -> Select:
    # a chat opened and never written in is nobody's work: it stays out of the inbox (and its counts)
    query = query.where(Conversation.message_count > 0)
    by_status = {
        "waiting": Conversation.state == "waiting",
        "mine": Conversation.assigned_agent_id == f.agent_id,
        "flagged": Conversation.flagged.is_(True),
        "negative": Conversation.negative_feedback.is_(True),
        "open": Conversation.state.in_(OPEN_STATES),
        "closed": Conversation.state == "closed",
    }
    if f.status in by_status:
        query = query.where(by_status[f.status])
    if f.intent:  # what the bot predicted, or what an agent corrected it to
        predicted = select(Message.conversation_id).where(Message.intent == f.intent)
        labelled = (
            select(Message.conversation_id)
            .join(IntentLabel, IntentLabel.message_id == Message.id)
            .where(IntentLabel.intent == f.intent)
        )
        query = query.where(or_(Conversation.id.in_(predicted), Conversation.id.in_(labelled)))
    if f.tag:
        query = query.where(
            Conversation.id.in_(select(ConversationTag.conversation_id).where(ConversationTag.tag == f.tag))
        )
    if f.since:
        query = query.where(Conversation.updated_at >= f.since)
    if f.until:
        query = query.where(Conversation.created_at < f.until)
    if f.q:  # correlated, so the newest-first scan stops as soon as a page is full
        query = query.where(
            exists().where(Message.conversation_id == Conversation.id, Message.text.icontains(f.q, autoescape=True))
        )
    return query


def list_conversations(
    store: TranscriptStore, filters: InboxFilter, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page:
    """One page of the inbox, newest first, and the cursor of the next (None on the last page)."""
    limit = max(1, min(limit, MAX_LIMIT))
    base = select(Conversation, Agent.display_name).outerjoin(
        Agent, Agent.id == Conversation.assigned_agent_id
    )
    query = apply_filters(base, filters)
    if cursor:
        updated_at, last_id = decode_cursor(cursor)
        # the redundant <= lets the database walk the updated_at index from the cursor on
        query = query.where(
            Conversation.updated_at <= updated_at,
            or_(Conversation.updated_at < updated_at, and_(Conversation.updated_at == updated_at,
                                                           Conversation.id < last_id)),
        )
    query = query.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(limit + 1)
    with store.session() as session:
        rows = list(session.execute(query).all())
        more = len(rows) > limit
        rows = rows[:limit]
        tags = _tags(session, [c.id for c, _ in rows])
    items = [summarize(c, agent, tags.get(c.id, [])) for c, agent in rows]
    last = rows[-1][0] if rows else None
    return Page(items, encode_cursor(last.updated_at, last.id) if more and last else None)


def _tags(session: Session, conversation_ids: list[str]) -> dict[str, list[str]]:
    if not conversation_ids:
        return {}
    tags: dict[str, list[str]] = {}
    for conversation_id, tag in session.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag)
        .where(ConversationTag.conversation_id.in_(conversation_ids))
        .order_by(ConversationTag.tag)
    ):
        tags.setdefault(conversation_id, []).append(tag)
    return tags


def read_conversation(store: TranscriptStore, conversation_id: str, faq_question: FaqQuestion) -> dict[str, Any]:
    """The conversation's summary, every message with its explanation, and its notes."""
    with store.session() as session:
        summary = conversation_summary(session, conversation_id)
        if summary is None:
            raise UnknownConversation(conversation_id)
        messages = message_views(session, faq_question, conversation_id=conversation_id)
        notes = session.execute(
            select(Note, Agent.display_name)
            .join(Agent, Agent.id == Note.agent_id)
            .where(Note.conversation_id == conversation_id)
            .order_by(Note.id)
        ).all()
    return {"conversation": summary, "messages": messages, "notes": [note_view(n, name) for n, name in notes]}


def note_view(note: Note, agent: str) -> dict[str, Any]:
    return {"id": note.id, "agent": agent, "text": note.text, "created_at": iso(note.created_at)}
