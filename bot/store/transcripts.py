"""The transcript store: every conversation, message and rating, on any SQLAlchemy database."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from bot.store import replay, writes
from bot.store.journal import Journal
from bot.store.models import Agent, Conversation, Feedback, Message, RasaEvent, as_utc
from bot.store.spool import WriteSpool
from bot.store.tokens import hash_token, new_token, token_matches
from bot.store.writes import UnknownReply


class UnknownConversation(LookupError):
    """The conversation does not exist or the token does not match it."""


class ExpiredConversation(UnknownConversation):
    """The token matches, but the conversation has been idle for longer than a resume token lasts."""


R = TypeVar("R")
log = logging.getLogger(__name__)
# The database cannot be reached (or answers nothing in time): what sends customers' writes to the journal.
OUTAGES = (OperationalError, InterfaceError, PoolTimeout)
JOURNALED = 0  # the id of a row that waits in the journal (the database gives it a real one when it returns)
__all__ = ["BotReplyRecord", "ConversationState", "ExpiredConversation", "PastTurn", "TranscriptStore",
           "UnknownConversation", "UnknownReply"]  # UnknownReply is raised by a write job; callers catch it from here


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
    action: str | None = None  # the custom action that said it
    data: dict[str, Any] | None = None  # buttons, image, custom payload; what the turn's actions did


@dataclass(frozen=True)
class ConversationState:
    """Who answers the customer: the bot, nobody yet (waiting), an agent, or nobody (closed)."""

    state: str
    agent_id: int | None
    agent_name: str | None
    fallback_streak: int = 0


@dataclass(frozen=True)
class PastTurn:
    """A customer message with the route and intent the bot gave it, for follow-up context."""

    text: str
    intent: str | None
    route: str | None
    faq_id: str | None
    created_at: datetime


def shown_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """What the widget shows of a reply's structured data: its buttons, image and custom payload, if any."""
    shown = (data or {}).get("message") or {}
    return {key: shown[key] for key in ("buttons", "image", "custom") if shown.get(key) is not None}


class TranscriptStore:
    """Reads and writes transcripts; every write is one transaction, so nothing is half-written."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.spool: WriteSpool | None = None  # group commit, once a server starts it
        self.journal: Journal | None = None  # where customers' writes wait out a database outage (a server's)

    def session(self) -> Session:
        return self._sessions()

    def start_spool(self) -> None:
        """From now on, writes of concurrent callers share transactions (group commit)."""
        if self.spool is None:
            self.spool = WriteSpool(self._sessions)

    def open_journal(self, path: Path) -> None:
        """From now on, customers' writes that the database cannot take wait in the journal at ``path``."""
        if self.journal is None:
            self.journal = Journal(path)

    def _durable(self, kind: str, conversation_id: str, payload: dict[str, Any],
                 job: Callable[[Session], R]) -> R | None:
        """``job`` committed now; while the database is out, or earlier writes still wait in the journal (a
        conversation's messages are stored in the order they were said), journaled instead: None."""
        journal = self.journal
        if journal is None:
            return self.write(job)
        if not journal.waiting:
            try:
                return self.write(job)
            except OUTAGES as exc:
                log.warning("the database is out (%s): customers' writes wait in the journal", type(exc).__name__)
        journal.append(kind, conversation_id, payload)
        return None

    def flush_journal(self) -> list[str]:
        """Replay what waits in the journal until it is empty or the database fails again; the conversations
        written to."""
        return replay.flush(self.journal, self.write, OUTAGES) if self.journal is not None else []

    def stop_spool(self) -> None:
        spool, self.spool = self.spool, None
        if spool is not None:
            spool.close()

    def write(self, job: Callable[[Session], R]) -> R:
        """Run ``job`` in a committed transaction: through the spool when started, else on its own."""
        if self.spool is not None:
            return self.spool.run(job)
        with self.session() as session, session.begin():
            return job(session)

    def ping(self) -> None:
        with self.session() as session:
            session.execute(select(1))

    # conversations -------------------------------------------------------------------------

    def open_conversation(self) -> tuple[str, str]:
        """Start a conversation; returns its id and the secret token that resumes it."""
        conversation_id, token = uuid.uuid4().hex, new_token(24)
        hashed = hash_token(token)
        self._durable("conversation", conversation_id, {"token_hash": hashed},
                      lambda session: session.add(Conversation(id=conversation_id, token_hash=hashed)))
        return conversation_id, token

    def authenticate(self, conversation_id: str, token: str, idle: timedelta | None = None) -> None:
        """Raise ``UnknownConversation`` unless ``token`` resumes ``conversation_id``, and ``ExpiredConversation``
        when it does but nothing was said in it for longer than ``idle``."""
        with self.session() as session:
            row = session.execute(select(Conversation.token_hash, Conversation.updated_at)
                                  .where(Conversation.id == conversation_id)).first()
        if row is None or not token_matches(row.token_hash, token):
            raise UnknownConversation(conversation_id)
        if idle is not None and as_utc(row.updated_at) < datetime.now(UTC) - idle:
            raise ExpiredConversation(conversation_id)

    def state(self, conversation_id: str) -> str:
        return self.conversation_state(conversation_id).state

    def conversation_state(self, conversation_id: str) -> ConversationState:
        """The conversation's state and the agent holding it, if any."""
        with self.session() as session:
            return _state(session, conversation_id)

    def turn_context(self, conversation_id: str, limit: int) -> tuple[ConversationState, list[PastTurn]]:
        """What a turn reads before it answers, in one visit: the state and the last ``limit`` customer turns."""
        with self.session() as session:
            return _state(session, conversation_id), _recent(session, conversation_id, limit)

    def transition(
        self, conversation_id: str, allowed: tuple[str, ...], state: str, agent_id: int | None = None
    ) -> bool:
        """Move to ``state`` only from one of ``allowed``, atomically; False when another change won."""
        return self.write(lambda session: writes.transition(session, conversation_id, allowed, state, agent_id))

    # messages ------------------------------------------------------------------------------

    def log_customer(self, conversation_id: str, text: str, client_id: str | None = None) -> int:
        """Store a customer message before the bot answers it, so it is never lost; returns its id (``JOURNALED``
        while it waits in the journal)."""
        written = self._durable("customer", conversation_id, {"text": text, "client_id": client_id},
                                lambda session: writes.add_message(session, Message(
                                    conversation_id=conversation_id, role="customer", text=text, client_id=client_id)))
        return JOURNALED if written is None else written  # the row is built inside the job: a job run again
        # after a failed batch starts from a fresh row

    def log_message(self, conversation_id: str, role: str, text: str, agent_id: int | None = None) -> int:
        """Store an agent's message or a system notice ("Maya joined"); returns its id."""
        return self.write(lambda session: writes.add_message(
            session, Message(conversation_id=conversation_id, role=role, text=text, agent_id=agent_id)
        ))

    def log_turn(self, conversation_id: str, text: str, client_id: str | None, reply: BotReplyRecord,
                 then_state: str | None = None, reopen: bool = False) -> tuple[int, int | None]:
        """Store a customer message with the bot's reply in one transaction: (message id, reply id), the
        reply's None when the conversation was no longer the bot's (an agent took it over meanwhile).
        ``reopen``: first move a closed conversation back to the bot."""
        message_id, reply_ids = self.log_replies(conversation_id, text, client_id, reply, [reply], then_state,
                                                 reopen)
        return message_id, reply_ids[0] if reply_ids else None

    def log_replies(self, conversation_id: str, text: str, client_id: str | None, decision: BotReplyRecord,
                    replies: list[BotReplyRecord], then_state: str | None = None, reopen: bool = False,
                    rasa_events: list[dict[str, Any]] | None = None) -> tuple[int, list[int]]:
        """``log_turn`` for a turn answered by any number of messages (a custom action's), with the Rasa events
        the turn adds: all in one transaction. The reply ids are empty when an agent took the chat over, and
        ``JOURNALED`` while the turn waits in the journal."""
        payload = {"text": text, "client_id": client_id, "decision": asdict(decision),
                   "replies": [asdict(reply) for reply in replies], "then_state": then_state, "reopen": reopen,
                   "rasa_events": rasa_events or []}
        written = self._durable("turn", conversation_id, payload, lambda session: writes.add_turn(
            session, conversation_id, text, client_id, decision, replies, then_state, reopen, rasa_events or ()))
        return (JOURNALED, [JOURNALED] * len(replies)) if written is None else written

    def rasa_events(self, conversation_id: str) -> list[dict[str, Any]]:
        """The conversation's Rasa events, oldest first (its tracker is these played forward)."""
        with self.session() as session:
            return list(session.scalars(
                select(RasaEvent.event).where(RasaEvent.conversation_id == conversation_id).order_by(RasaEvent.id)
            ))

    def add_rasa_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Append Rasa events to the conversation's tracker, all of them or (when the write fails) none."""
        if events:
            self.write(lambda session: writes.add_rasa_events(session, conversation_id, events))

    def record_feedback(self, conversation_id: str, reply_id: str, rating: str) -> None:
        """Store (or change) the customer's rating of one bot reply of this conversation."""
        self._durable("feedback", conversation_id, {"reply_id": reply_id, "rating": rating},
                      lambda session: writes.rate_reply(session, conversation_id, reply_id, rating))

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
                "message_id": m.id, "created_at": m.created_at.isoformat(), **shown_data(m.data),
            }
            for m, rating, agent in reversed(rows)
        ]

    def recent_customer_turns(self, conversation_id: str, limit: int) -> list[PastTurn]:
        """The last ``limit`` answered customer messages, newest first."""
        with self.session() as session:
            return _recent(session, conversation_id, limit)


def _state(session: Session, conversation_id: str) -> ConversationState:
    row = session.execute(
        select(
            Conversation.state, Conversation.assigned_agent_id, Agent.display_name, Conversation.fallback_streak,
        )
        .outerjoin(Agent, Agent.id == Conversation.assigned_agent_id)
        .where(Conversation.id == conversation_id)
    ).first()
    if row is None:
        raise UnknownConversation(conversation_id)
    return ConversationState(row[0], row[1], row[2], row[3])


def _recent(session: Session, conversation_id: str, limit: int) -> list[PastTurn]:
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.role == "customer")
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()
    return [PastTurn(m.text, m.intent, m.route, m.faq_id, m.created_at) for m in rows]
