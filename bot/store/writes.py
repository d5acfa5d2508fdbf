"""The transcript writes as jobs: functions of a session that the store commits, alone or group-committed.

Each job does all of one logical write (a message and its conversation's inbox fields, a reply and its
decision, a state change), so committing it in any batch never leaves half of it behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store.models import Conversation, Feedback, Message, utcnow

if TYPE_CHECKING:
    from bot.store.transcripts import BotReplyRecord

PREVIEW_CHARS = 200


class UnknownReply(LookupError):
    """No bot reply with this id in this conversation."""


def touch(conversation_id: str, text: str) -> Any:
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


def add_message(session: Session, message: Message) -> int:
    """Store a customer's, agent's or system message and count it in the inbox; its id."""
    session.add(message)
    session.execute(touch(message.conversation_id, message.text))
    session.flush()
    return message.id


def transition(session: Session, conversation_id: str, allowed: tuple[str, ...], state: str,
               agent_id: int | None) -> bool:
    """Move to ``state`` only from one of ``allowed``; False when the conversation is in another state."""
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.state.in_(allowed))
        .values(state=state, assigned_agent_id=agent_id, fallback_streak=0, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def add_bot_reply(session: Session, conversation_id: str, in_reply_to: int | None, reply: BotReplyRecord,
                  then_state: str | None = None) -> int:
    """Store a bot reply, copy its decision onto the customer message, and apply a handoff; the reply's id."""
    message = Message(
        conversation_id=conversation_id, role="bot", text=reply.text, reply_id=reply.reply_id,
        in_reply_to=in_reply_to, intent=reply.intent, confidence=reply.confidence,
        ranking=reply.ranking, route=reply.route, faq_id=reply.faq_id, score=reply.score,
        suggestions=reply.suggestions, model_version=reply.model_version, latency_ms=reply.latency_ms,
    )
    session.add(message)
    streak = Conversation.fallback_streak + 1 if reply.route == "fallback" else 0
    inbox = touch(conversation_id, reply.text).values(fallback_streak=streak)
    session.execute(inbox.values(flagged=True) if reply.flagged else inbox)
    if in_reply_to is not None:  # the customer message carries the same decision, for review and export
        session.execute(
            update(Message).where(Message.id == in_reply_to).values(
                intent=reply.intent, confidence=reply.confidence, ranking=reply.ranking,
                route=reply.route, faq_id=reply.faq_id, score=reply.score,
                model_version=reply.model_version, latency_ms=reply.latency_ms,
            )
        )
    if then_state is not None:
        transition(session, conversation_id, ("bot",), then_state, None)
    session.flush()
    return message.id


def rate_reply(session: Session, conversation_id: str, reply_id: str, rating: str) -> None:
    """Store (or change) the customer's rating of one bot reply; ``UnknownReply`` if it is not theirs."""
    message_id = session.scalar(
        select(Message.id).where(
            Message.reply_id == reply_id, Message.conversation_id == conversation_id, Message.role == "bot",
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
        session.execute(update(Conversation).where(Conversation.id == conversation_id).values(negative_feedback=True))
