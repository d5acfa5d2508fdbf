"""Erasing a conversation from the transcript database: every row that hangs off it, in one transaction.

The rows are deleted explicitly, children before parents, rather than left to ``ON DELETE CASCADE``: the
counts go into the audit record, and a database whose foreign keys are not enforced (SQLite without the
pragma, a table added later without a cascade) still loses every row. What is kept is an ``erasures`` row:
the conversation id, when, by whom and how many rows of each table went, never what they said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.store.models import (
    Conversation,
    ConversationTag,
    Erasure,
    FaqGapLink,
    FaqProposalMessage,
    Feedback,
    IntentLabel,
    Message,
    Note,
    RasaEvent,
    ReplyReview,
    iso,
)
from bot.store.senders import ChannelSender
from bot.store.transcripts import TranscriptStore

ERASED_BY_CHARS = 80
# every table with a row of the conversation, in the order they are emptied (children first)
TABLES = ("feedback", "intent_labels", "reply_reviews", "faq_gap_links", "faq_proposal_messages", "notes",
          "conversation_tags", "rasa_events", "channel_senders", "messages", "conversations")


@dataclass(frozen=True)
class ErasureRecord:
    """One erased conversation as the audit log keeps it: no text, only what went, when and by whom."""

    conversation_id: str
    erased_at: datetime
    erased_by: str
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id, "erased_at": iso(self.erased_at),
                "erased_by": self.erased_by, "counts": dict(self.counts)}


@dataclass(frozen=True)
class Removed:
    """What one erasure took out: its record, and the customer's texts (for scrubbing files, never stored)."""

    record: ErasureRecord
    customer_texts: tuple[str, ...]


def _record(row: Erasure) -> ErasureRecord:
    return ErasureRecord(row.conversation_id, row.erased_at, row.erased_by, dict(row.counts))


def _deletes(conversation_id: str) -> list[tuple[str, Any]]:
    """The delete of each table in ``TABLES``, for one conversation."""
    messages = select(Message.id).where(Message.conversation_id == conversation_id)
    return [
        ("feedback", delete(Feedback).where(
            or_(Feedback.conversation_id == conversation_id, Feedback.message_id.in_(messages)))),
        ("intent_labels", delete(IntentLabel).where(IntentLabel.message_id.in_(messages))),
        ("reply_reviews", delete(ReplyReview).where(ReplyReview.message_id.in_(messages))),
        ("faq_gap_links", delete(FaqGapLink).where(FaqGapLink.message_id.in_(messages))),
        # a proposed FAQ entry stays (it is the agents' text), without the erased questions it answered
        ("faq_proposal_messages", delete(FaqProposalMessage).where(FaqProposalMessage.message_id.in_(messages))),
        ("notes", delete(Note).where(Note.conversation_id == conversation_id)),
        ("conversation_tags", delete(ConversationTag).where(ConversationTag.conversation_id == conversation_id)),
        ("rasa_events", delete(RasaEvent).where(RasaEvent.conversation_id == conversation_id)),
        # a Rasa channel's name for it: the next message under that name starts a new conversation
        ("channel_senders", delete(ChannelSender).where(ChannelSender.conversation_id == conversation_id)),
        # a reply points at the message it answers: one statement removes both, and foreign keys are checked
        # at its end, so the order of rows inside it does not matter
        ("messages", delete(Message).where(Message.conversation_id == conversation_id)),
        ("conversations", delete(Conversation).where(Conversation.id == conversation_id)),
    ]


def erase_conversation(session: Session, conversation_id: str, erased_by: str,
                       idle_before: datetime | None = None) -> Removed | None:
    """Delete the conversation and every row hanging off it, and record the erasure (a write job: the caller
    commits, all of it or nothing). None when there is no such conversation, or, with ``idle_before``, when it
    was active since (a customer came back while retention looked at it)."""
    # Touching the row first takes its lock (PostgreSQL) or the write lock (SQLite) before anything is read,
    # so a turn being logged now waits and then finds the conversation gone, and two replicas erasing the
    # same conversation do it once.
    lock = update(Conversation).where(Conversation.id == conversation_id).values(state=Conversation.state)
    if idle_before is not None:
        lock = lock.where(Conversation.updated_at < idle_before)
    if getattr(session.execute(lock.execution_options(synchronize_session=False)), "rowcount", 0) != 1:
        return None
    texts = tuple(session.scalars(
        select(Message.text).where(Message.conversation_id == conversation_id, Message.role == "customer")
    ))
    counts = {}
    for table, statement in _deletes(conversation_id):
        result = session.execute(statement.execution_options(synchronize_session=False))
        counts[table] = int(getattr(result, "rowcount", 0))
    row = Erasure(conversation_id=conversation_id, erased_by=erased_by[:ERASED_BY_CHARS], counts=counts)
    session.add(row)
    session.flush()
    return Removed(_record(row), texts)


def erasure_of(store: TranscriptStore, conversation_id: str) -> ErasureRecord | None:
    """The audit record of an erased conversation, or None when it was never erased."""
    with store.session() as session:
        row = session.scalar(select(Erasure).where(Erasure.conversation_id == conversation_id))
        return _record(row) if row is not None else None


def existing(store: TranscriptStore, conversation_ids: list[str]) -> set[str]:
    """Which of ``conversation_ids`` are conversations in the database now."""
    with store.session() as session:
        return set(session.scalars(select(Conversation.id).where(Conversation.id.in_(conversation_ids))))


def erasures(store: TranscriptStore, limit: int = 100) -> list[ErasureRecord]:
    """The audit log, newest first."""
    with store.session() as session:
        rows = session.scalars(select(Erasure).order_by(Erasure.erased_at.desc(), Erasure.id.desc()).limit(limit))
        return [_record(row) for row in rows]


def erased_since(store: TranscriptStore, moment: datetime) -> set[str]:
    """The conversations erased at or after ``moment`` (what a training set read before then may still hold)."""
    with store.session() as session:
        return set(session.scalars(select(Erasure.conversation_id).where(Erasure.erased_at >= moment)))
