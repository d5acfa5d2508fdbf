"""How the console sees a conversation and a message: the shapes of the agent API and agent events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import Agent, Conversation, ConversationTag, Feedback, IntentLabel, Message, ReplyReview

FaqQuestion = Callable[[str], str | None]


def conversation_summary(session: Session, conversation_id: str) -> dict[str, Any] | None:
    """The inbox row of one conversation."""
    row = session.execute(
        select(Conversation, Agent.display_name)
        .outerjoin(Agent, Agent.id == Conversation.assigned_agent_id)
        .where(Conversation.id == conversation_id)
    ).first()
    if row is None:
        return None
    tags = session.scalars(
        select(ConversationTag.tag)
        .where(ConversationTag.conversation_id == conversation_id)
        .order_by(ConversationTag.tag)
    ).all()
    return summarize(row[0], row[1], list(tags))


def summarize(conversation: Conversation, agent_name: str | None, tags: list[str]) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "state": conversation.state,
        "assigned_agent": agent_name,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "last_message": conversation.last_message,
        "message_count": conversation.message_count,
        "flagged": conversation.flagged,
        "negative_feedback": conversation.negative_feedback,
        "tags": tags,
    }


def message_views(
    session: Session, faq_question: FaqQuestion, *, conversation_id: str | None = None, message_id: int | None = None
) -> list[dict[str, Any]]:
    """Messages with the explanation of every bot turn, the customer's rating and the agents' corrections."""
    query = (
        select(Message, Agent.display_name, Feedback.rating, IntentLabel.intent, ReplyReview.verdict)
        .outerjoin(Agent, Agent.id == Message.agent_id)
        .outerjoin(Feedback, Feedback.message_id == Message.id)
        .outerjoin(IntentLabel, IntentLabel.message_id == Message.id)
        .outerjoin(ReplyReview, ReplyReview.message_id == Message.id)
        .order_by(Message.id)
    )
    if conversation_id is not None:
        query = query.where(Message.conversation_id == conversation_id)
    if message_id is not None:
        query = query.where(Message.id == message_id)
    return [
        view(m, agent, rating, label, verdict, faq_question)
        for m, agent, rating, label, verdict in session.execute(query).all()
    ]


def view(
    m: Message, agent: str | None, rating: str | None, label: str | None, verdict: str | None,
    faq_question: FaqQuestion,
) -> dict[str, Any]:
    return {
        "id": m.id, "conversation_id": m.conversation_id, "role": m.role, "text": m.text,
        "created_at": m.created_at.isoformat(), "agent": agent, "reply_id": m.reply_id,
        "in_reply_to": m.in_reply_to, "intent": m.intent, "confidence": m.confidence,
        "ranking": m.ranking or [], "route": m.route, "faq_id": m.faq_id,
        "faq_question": faq_question(m.faq_id) if m.faq_id else None, "score": m.score,
        "model_version": m.model_version, "latency_ms": m.latency_ms, "suggestions": m.suggestions or [],
        "rating": rating, "label": label, "review": verdict,
        # a custom action's reply: which action said it, its buttons, and (on a turn's first reply) what the
        # turn's actions did: their names, slots before and after, the tracker events, how long they took
        "action": m.action, "actions": (m.data or {}).get("actions"),
        "buttons": ((m.data or {}).get("message") or {}).get("buttons") or [],
    }
