"""The transcript writes as jobs: functions of a session that the store commits, alone or group-committed.

Each job does all of one logical write (a message and its conversation's inbox fields, a reply and its
decision, a state change), so committing it in any batch never leaves half of it behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, case, insert, or_, select, update
from sqlalchemy.orm import Session

from bot.store.models import Conversation, Feedback, Message, RasaEvent, utcnow

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


def add_turn(session: Session, conversation_id: str, text: str, client_id: str | None, decision: BotReplyRecord,
             replies: Sequence[BotReplyRecord], then_state: str | None, reopen: bool,
             rasa_events: Sequence[dict[str, Any]] = ()) -> tuple[int, list[int]]:
    """A customer message and the bot's answer to it, as one write: (message id, the replies' ids).

    ``decision`` is what the bot made of the message (its intent, route, score…), carried by the customer's
    row; ``replies`` are the messages it answered with (usually one: ``decision`` itself; a custom action may
    say several things, or nothing), and ``rasa_events`` what the turn adds to the conversation's tracker.
    The replies are stored only if the conversation is still the bot's (or closed, with ``reopen``): when an
    agent took it over meanwhile, the message is kept and the rest dropped (no reply ids). The statements are
    built once and run with new values: this runs for every message, and building statements (or ORM
    objects) each time cost more than the database did.
    """
    now = utcnow()
    moved = then_state is not None or reopen  # a handoff, or a closed conversation back with the bot
    counted = session.execute(_turn_inbox(decision.flagged, moved, reopen), {
        "conversation": conversation_id, "now": now, "added": 1 + len(replies),
        "preview": (replies[-1].text if replies else text)[:PREVIEW_CHARS], "fallback": decision.route == "fallback",
        "state": then_state or "bot", "handoff": then_state is not None,
    })
    if getattr(counted, "rowcount", 1) != 1:
        customer = Message(conversation_id=conversation_id, role="customer", text=text, client_id=client_id)
        return add_message(session, customer), []
    message_id = session.execute(_INSERT_MESSAGE, {
        **_decision(decision, conversation_id, now), "role": "customer", "text": text, "client_id": client_id,
        "reply_id": None, "in_reply_to": None, "suggestions": None, "action": None, "data": None,
    }).scalar_one()
    reply_ids = [session.execute(_INSERT_MESSAGE, {
        **_decision(reply, conversation_id, now), "role": "bot", "text": reply.text, "client_id": None,
        "reply_id": reply.reply_id, "in_reply_to": message_id, "suggestions": reply.suggestions,
        "action": reply.action, "data": reply.data,
    }).scalar_one() for reply in replies]
    if rasa_events:
        add_rasa_events(session, conversation_id, list(rasa_events))
    return message_id, reply_ids


def _decision(record: BotReplyRecord, conversation_id: str, now: Any) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id, "created_at": now, "intent": record.intent,
        "confidence": record.confidence, "ranking": record.ranking, "route": record.route, "faq_id": record.faq_id,
        "score": record.score, "model_version": record.model_version, "latency_ms": record.latency_ms,
    }


_messages, _conversations = cast(Table, Message.__table__), cast(Table, Conversation.__table__)
_INSERT_MESSAGE = insert(_messages).returning(_messages.c.id)


@cache
def _turn_inbox(flagged: bool, moved: bool, reopen: bool) -> Any:
    """The conversation update of one answered turn: its messages counted, the last reply as preview, the
    streak; only while the bot holds it (or it is closed, with ``reopen``). The states are plain comparisons:
    an ``IN`` list would be expanded into the SQL again at every execution, which cost more than the rest of
    the statement."""
    c = _conversations.c
    streak = case((bindparam("fallback"), c.fallback_streak + 1), else_=0)
    values: dict[str, Any] = {
        "updated_at": bindparam("now"), "message_count": c.message_count + bindparam("added"),
        "last_message": bindparam("preview"), "fallback_streak": streak,
    }
    if flagged:
        values["flagged"] = True
    if moved:
        values.update(state=bindparam("state"), assigned_agent_id=None,
                      fallback_streak=case((bindparam("handoff"), 0), else_=streak))
    return (
        update(_conversations)
        .where(c.id == bindparam("conversation"), or_(c.state == "bot", c.state == "closed") if reopen else
               c.state == "bot")
        .values(values)
    )


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


def add_rasa_events(session: Session, conversation_id: str, events: list[dict[str, Any]]) -> None:
    """Append a turn's Rasa events (the customer's message, the action, what it set) in their order."""
    session.add_all(RasaEvent(conversation_id=conversation_id, event=event) for event in events)
    session.flush()
