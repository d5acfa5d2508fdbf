"""SQLAlchemy tables of the transcript log: conversations, their messages, and feedback on bot replies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored one is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with the offset, the same on SQLite and PostgreSQL."""
    return None if moment is None else as_utc(moment).isoformat()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores none, so it is restored on load)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    # bot | waiting | agent | closed: who answers the customer next
    state: Mapped[str] = mapped_column(String(16), default="bot", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # the agent who claimed the conversation (state "agent"); first accept wins
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None, index=True)
    # bot fallbacks in a row; two hand the conversation to a person
    fallback_streak: Mapped[int] = mapped_column(Integer, default=0)
    # denormalised for the inbox filters, kept up to date on every write
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # a fallback or a low-confidence answer
    negative_feedback: Mapped[bool] = mapped_column(Boolean, default=False)
    last_message: Mapped[str | None] = mapped_column(String(200), default=None)
    message_count: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        Index("ix_messages_intent", "intent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # customer | bot | agent | system
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    client_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # bot replies: the public id the widget rates, and what the bot decided and why
    reply_id: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    in_reply_to: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    intent: Mapped[str | None] = mapped_column(String(64), default=None)
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    ranking: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    route: Mapped[str | None] = mapped_column(String(16), default=None)
    faq_id: Mapped[str | None] = mapped_column(String(128), default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    suggestions: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    model_version: Mapped[str | None] = mapped_column(String(64), default=None)
    latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)  # role "agent"
    # a custom action's reply: the action that said it, and what Rasa sent beside the text (buttons, image,
    # custom payload) and, on a turn's first reply, what the turn's actions did (the console shows it)
    action: Mapped[str | None] = mapped_column(String(128), default=None)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("message_id", name="uq_feedback_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    rating: Mapped[str] = mapped_column(String(8))  # up | down
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Agent(Base):
    """A support agent (or admin) who logs in to the console."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))  # agent | admin
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AgentSession(Base):
    """A login: the console's cookie or an API bearer token (only its hash is stored)."""

    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """Every login try, for slowing down guessing and for the audit log."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_name_created", "name", "created_at"),
        Index("ix_login_attempts_remote_created", "remote", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    remote: Mapped[str | None] = mapped_column(String(64), default=None)
    ok: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IntentLabel(Base):
    """An agent's correction of a customer message's intent: authoritative training data."""

    __tablename__ = "intent_labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    intent: Mapped[str] = mapped_column(String(64), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReplyReview(Base):
    """An agent's verdict on one bot reply."""

    __tablename__ = "reply_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    verdict: Mapped[str] = mapped_column(String(8))  # good | bad
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Note(Base):
    """An internal note on a conversation; never shown to the customer."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConversationTag(Base):
    __tablename__ = "conversation_tags"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ModelVersion(Base):
    """A trained classifier in the registry: its evaluation, the promotion decision, and load failures."""

    __tablename__ = "model_versions"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    # candidate | production | retired | rejected
    status: Mapped[str] = mapped_column(String(16), default="candidate", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    trained_from: Mapped[str | None] = mapped_column(String(80), default=None)  # "base" or a version
    data_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    baseline_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    report_path: Mapped[str | None] = mapped_column(String(500), default=None)
    load_error: Mapped[str | None] = mapped_column(Text, default=None)
    load_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class FaqGapLink(Base):
    """An unanswered customer message an agent covered with a new FAQ entry (it leaves the gaps list)."""

    __tablename__ = "faq_gap_links"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    faq_id: Mapped[str] = mapped_column(String(128), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RasaEvent(Base):
    """One Rasa event of a conversation's tracker (user, slot, action, bot, active_loop…), in order.

    Custom actions read and write a conversation as Rasa's events; stored here, a conversation's slots and
    active form survive a reconnect and a restart, and any replica rebuilds the same tracker from them.
    """

    __tablename__ = "rasa_events"
    __table_args__ = (Index("ix_rasa_events_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JournalApplied(Base):
    """A write that waited in a server's local journal (the database was out) and has been applied: replayed
    again after a crash, it is recognised by its key and not applied twice."""

    __tablename__ = "journal_applied"

    key: Mapped[str] = mapped_column(String(36), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class FaqProposal(Base):
    """An FAQ entry an agent proposed for unanswered questions: customers get it once an admin publishes it."""

    __tablename__ = "faq_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending | published | rejected
    proposed_by: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)  # the admin's, on a rejection
    faq_id: Mapped[str | None] = mapped_column(String(128), default=None)  # the entry it became


class FaqProposalMessage(Base):
    """An unanswered customer message a proposal answers (it leaves the gaps list while the proposal is pending)."""

    __tablename__ = "faq_proposal_messages"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("faq_proposals.id", ondelete="CASCADE"), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


class Erasure(Base):
    """The audit record of one erased conversation: when, by whom, how many rows went; never their content.

    The id stays after its conversation is gone, so a second erasure of it is told apart from an unknown id.
    """

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(32), unique=True)  # no foreign key: the row is gone
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    erased_by: Mapped[str] = mapped_column(String(80))  # "admin:<name>", "cli" or "retention"
    counts: Mapped[dict[str, int]] = mapped_column(JSON)  # rows removed per table
