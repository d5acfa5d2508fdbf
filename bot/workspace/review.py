"""What agents add to a transcript: corrected intents (training data), reply verdicts, notes and tags."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import Agent, Conversation, ConversationTag, IntentLabel, Message, Note, ReplyReview, utcnow
from bot.store.transcripts import TranscriptStore, UnknownConversation
from bot.workspace.inbox import note_view

INTENT_PATTERN = re.compile(r"[a-z0-9_]{1,64}")
VERDICTS = ("good", "bad")
MAX_TAG_CHARS = 64
MAX_NOTE_CHARS = 10_000


class UnknownMessage(LookupError):
    """No message has this id."""


class WrongMessageRole(ValueError):
    """Intents are corrected on customer messages and verdicts given on bot replies, nothing else."""


class InvalidLabel(ValueError):
    """An intent, verdict, tag or note that breaks the rules."""


def _message(session: Session, message_id: int, role: str) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise UnknownMessage(message_id)
    if message.role != role:
        raise WrongMessageRole(f"message {message_id} is a {message.role} message, not a {role} message")
    return message


def _upsert(store: TranscriptStore, table: type[IntentLabel] | type[ReplyReview], message_id: int, role: str,
            values: dict[str, Any]) -> None:
    """Insert or replace the row for ``message_id`` in one transaction (retried once if another won the insert)."""
    for attempt in range(2):
        try:
            with store.session() as session, session.begin():
                _message(session, message_id, role)
                row = session.scalar(select(table).where(table.message_id == message_id))
                if row is None:
                    session.add(table(message_id=message_id, **values))
                else:
                    for key, value in values.items():
                        setattr(row, key, value)
                    row.created_at = utcnow()  # type: ignore[attr-defined]
            return
        except IntegrityError:
            if attempt:
                raise


def label_intent(store: TranscriptStore, message_id: int, intent: str, agent_id: int) -> None:
    """Store an agent's intent for a customer message (a known label or a new one), replacing any earlier one."""
    if not INTENT_PATTERN.fullmatch(intent):
        raise InvalidLabel("an intent is 1-64 characters of a-z, 0-9 and _")
    _upsert(store, IntentLabel, message_id, "customer", {"intent": intent, "agent_id": agent_id})


def review_reply(store: TranscriptStore, message_id: int, verdict: str, agent_id: int) -> None:
    """Store an agent's verdict (good or bad) on a bot reply, replacing any earlier one."""
    if verdict not in VERDICTS:
        raise InvalidLabel("a verdict is 'good' or 'bad'")
    _upsert(store, ReplyReview, message_id, "bot", {"verdict": verdict, "agent_id": agent_id})


def _check_conversation(session: Session, conversation_id: str) -> None:
    if session.get(Conversation, conversation_id) is None:
        raise UnknownConversation(conversation_id)


def add_note(store: TranscriptStore, conversation_id: str, agent_id: int, text: str) -> dict[str, Any]:
    """Add an internal note (never shown to the customer); returns it as the console shows it."""
    text = text.strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise InvalidLabel(f"a note is 1-{MAX_NOTE_CHARS} characters")
    with store.session() as session, session.begin():
        _check_conversation(session, conversation_id)
        note = Note(conversation_id=conversation_id, agent_id=agent_id, text=text)
        session.add(note)
        session.flush()
        agent = session.scalar(select(Agent.display_name).where(Agent.id == agent_id)) or ""
        return note_view(note, agent)


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags stripped, each 1-64 characters, duplicates dropped, sorted."""
    cleaned = {tag.strip() for tag in tags}
    if any(not tag or len(tag) > MAX_TAG_CHARS for tag in cleaned):
        raise InvalidLabel(f"a tag is 1-{MAX_TAG_CHARS} characters")
    return sorted(cleaned)


def set_tags(store: TranscriptStore, conversation_id: str, tags: Iterable[str]) -> list[str]:
    """Replace the conversation's tags; returns them as stored."""
    cleaned = clean_tags(tags)
    with store.session() as session, session.begin():
        _check_conversation(session, conversation_id)
        session.execute(delete(ConversationTag).where(ConversationTag.conversation_id == conversation_id))
        session.add_all(ConversationTag(conversation_id=conversation_id, tag=tag) for tag in cleaned)
    return cleaned


def known_intents(store: TranscriptStore, model_labels: Iterable[str] = ()) -> list[str]:
    """The served model's labels and every label agents have used, sorted."""
    with store.session() as session:
        used = session.scalars(select(IntentLabel.intent).distinct()).all()
    return sorted({*model_labels, *used})


def labelled_examples(store: TranscriptStore) -> list[tuple[str, str]]:
    """(text, intent) of every corrected customer message: training data for the next model."""
    with store.session() as session:
        rows = session.execute(
            select(Message.text, IntentLabel.intent)
            .join(IntentLabel, IntentLabel.message_id == Message.id)
            .order_by(IntentLabel.id)
        ).all()
    return [(text, intent) for text, intent in rows]
