"""The transcript store: every conversation, message and rating, on any SQLAlchemy database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import Agent, Conversation, Feedback, Message, utcnow
from bot.store.tokens import hash_token, new_token, token_matches


class UnknownConversation(LookupError):
    """The conversation does not exist or the token does not match it."""


class UnknownReply(LookupError):
    """The rated reply does not belong to this conversation."""


@dataclass(frozen=True)
class BotReplyRecord:
    """What the bot said, and why, for one customer message."""

    reply_id: str
    text: str
    intent: str | None
    confidence: float | None
    ranking: list[Any] = field(default_factory=list)
    route: str | None = None
    faq_id: str | None = None
    score: float | None = None
    suggestions: list[str] = field(default_factory=list)
    model_version: str | None = None
    latency_ms: float | None = None
    flagged: bool = False  # a fallback or a low-confidence answer, for the console's review filter


@dataclass(frozen=True)
class ConversationState:
    """Who answers the customer: the bot, nobody yet (waiting), an agent, or nobody (closed)."""

    state: str
    agent_id: int | None
    agent_name: str | None
    fallback_streak: int = 0


PREVIEW_CHARS = 200


@dataclass(frozen=True)
class PastTurn:
    """A customer message with the route and intent the bot gave it, for follow-up context."""

    text: str
    intent: str | None
    route: str | None
    faq_id: str | None
    created_at: datetime


def _touch(conversation_id: str, text: str) -> Any:
    """The update every new message makes to its conversation's inbox fields."""
    return (
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(
            updated_at=utcnow(),
            message_count=Conversation.message_count + 1,
            last_message=text[:PREVIEW_CHARS],
        )
    )


class TranscriptStore:
    """Reads and writes transcripts; every write is one transaction, so nothing is half-written."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    def ping(self) -> None:
        with self.session() as session:
            session.execute(select(1))

    # conversations -------------------------------------------------------------------------

    def open_conversation(self) -> tuple[str, str]:
        """Start a conversation; returns its id and the secret token that resumes it."""
        conversation_id, token = uuid.uuid4().hex, new_token(24)
        with self.session() as session, session.begin():
            session.add(Conversation(id=conversation_id, token_hash=hash_token(token)))
        return conversation_id, token

    def authenticate(self, conversation_id: str, token: str) -> None:
        """Raise ``UnknownConversation`` unless ``token`` resumes ``conversation_id``."""
        with self.session() as session:
            stored = session.scalar(select(Conversation.token_hash).where(Conversation.id == conversation_id))
        if stored is None or not token_matches(stored, token):
            raise UnknownConversation(conversation_id)

    def state(self, conversation_id: str) -> str:
        return self.conversation_state(conversation_id).state

    def conversation_state(self, conversation_id: str) -> ConversationState:
        """The conversation's state and the agent holding it, if any."""
        with self.session() as session:
            row = session.execute(
                select(
                    Conversation.state, Conversation.assigned_agent_id, Agent.display_name,
                    Conversation.fallback_streak,
                )
                .outerjoin(Agent, Agent.id == Conversation.assigned_agent_id)
                .where(Conversation.id == conversation_id)
            ).first()
        if row is None:
            raise UnknownConversation(conversation_id)
        return ConversationState(row[0], row[1], row[2], row[3])

    def transition(
        self, conversation_id: str, allowed: tuple[str, ...], state: str, agent_id: int | None = None
    ) -> bool:
        """Move to ``state`` only from one of ``allowed``, atomically; False when another change won."""
        with self.session() as session, session.begin():
            result = session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state.in_(allowed))
                .values(state=state, assigned_agent_id=agent_id, fallback_streak=0, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0) == 1)



    # messages ------------------------------------------------------------------------------

    def log_customer(self, conversation_id: str, text: str, client_id: str | None = None) -> int:
        """Store a customer message before the bot answers it, so it is never lost; returns its id."""
        with self.session() as session, session.begin():
            message = Message(conversation_id=conversation_id, role="customer", text=text, client_id=client_id)
            session.add(message)
            session.execute(_touch(conversation_id, text))
            session.flush()
            return message.id

    def log_message(self, conversation_id: str, role: str, text: str, agent_id: int | None = None) -> int:
        """Store an agent's message or a system notice ("Maya joined"); returns its id."""
        with self.session() as session, session.begin():
            message = Message(conversation_id=conversation_id, role=role, text=text, agent_id=agent_id)
            session.add(message)
            session.execute(_touch(conversation_id, text))
            session.flush()
            return message.id

    def log_bot(self, conversation_id: str, in_reply_to: int | None, reply: BotReplyRecord) -> int:
        with self.session() as session, session.begin():
            message = Message(
                conversation_id=conversation_id, role="bot", text=reply.text, reply_id=reply.reply_id,
                in_reply_to=in_reply_to, intent=reply.intent, confidence=reply.confidence,
                ranking=reply.ranking, route=reply.route, faq_id=reply.faq_id, score=reply.score,
                suggestions=reply.suggestions, model_version=reply.model_version, latency_ms=reply.latency_ms,
            )
            session.add(message)
            streak = Conversation.fallback_streak + 1 if reply.route == "fallback" else 0
            touch = _touch(conversation_id, reply.text).values(fallback_streak=streak)
            session.execute(touch.values(flagged=True) if reply.flagged else touch)
            if in_reply_to is not None:  # the customer message carries the same decision, for review and export
                session.execute(
                    update(Message).where(Message.id == in_reply_to).values(
                        intent=reply.intent, confidence=reply.confidence, ranking=reply.ranking,
                        route=reply.route, faq_id=reply.faq_id, score=reply.score,
                        model_version=reply.model_version, latency_ms=reply.latency_ms,
                    )
                )
            session.flush()
            return message.id

    def record_feedback(self, conversation_id: str, reply_id: str, rating: str) -> None:
        """Store (or change) the customer's rating of one bot reply of this conversation."""
        with self.session() as session, session.begin():
            message_id = session.scalar(
                select(Message.id).where(
                    Message.reply_id == reply_id,
                    Message.conversation_id == conversation_id,
                    Message.role == "bot",
                )
            )
            if message_id is None:
                raise UnknownReply(reply_id)
            existing = session.scalar(select(Feedback).where(Feedback.message_id == message_id))
            if existing is None:
                session.add(Feedback(conversation_id=conversation_id, message_id=message_id, rating=rating))
            else:
                existing.rating, existing.created_at = rating, utcnow()
            if rating == "down":
                session.execute(
                    update(Conversation).where(Conversation.id == conversation_id).values(negative_feedback=True)
                )

    def history(self, conversation_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` messages, oldest first, as the widget renders them."""
        with self.session() as session:
            rows = session.execute(
                select(Message, Feedback.rating, Agent.display_name)
                .outerjoin(Feedback, Feedback.message_id == Message.id)
                .outerjoin(Agent, Agent.id == Message.agent_id)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id.desc())
                .limit(limit)
            ).all()
        return [
            {
                "role": m.role, "text": m.text, "reply_id": m.reply_id,
                "suggestions": m.suggestions or [], "rating": rating, "agent": agent,
                "message_id": m.id, "created_at": m.created_at.isoformat(),
            }
            for m, rating, agent in reversed(rows)
        ]

    def recent_customer_turns(self, conversation_id: str, limit: int) -> list[PastTurn]:
        """The last ``limit`` answered customer messages, newest first."""
        with self.session() as session:
            rows = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.role == "customer")
                .order_by(Message.id.desc())
                .limit(limit)
            ).all()
        return [PastTurn(m.text, m.intent, m.route, m.faq_id, m.created_at) for m in rows]
