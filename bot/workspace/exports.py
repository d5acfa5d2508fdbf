"""Transcripts as export rows: every logged message with the bot's decision, for the CLI and the console."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from bot.store.models import Feedback, IntentLabel, Message, ReplyReview, iso
from bot.store.transcripts import TranscriptStore
from bot.workspace.inbox import InboxFilter, matching
from training.redaction import Redactor

EXPORT_FIELDS = (
    "conversation_id", "message_id", "created_at", "role", "text", "intent", "confidence", "route",
    "faq_id", "score", "model_version", "latency_ms", "reply_id", "rating",
)
AGENT_EXPORT_FIELDS = (*EXPORT_FIELDS, "label", "review")  # plus what agents said of the message


def export_rows(
    store: TranscriptStore, redactor: Redactor | None = None, filters: InboxFilter | None = None,
    agent_fields: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every message (of the conversations passing ``filters``, when given), in order, streamed in batches.

    Rows have ``EXPORT_FIELDS``, or ``AGENT_EXPORT_FIELDS`` with ``agent_fields``; personal data in the text
    is masked by ``redactor`` (default: cards, e-mails, phones and IBANs).
    """
    redact = (redactor or Redactor()).redact
    query = (
        select(Message, Feedback.rating, IntentLabel.intent, ReplyReview.verdict)
        .outerjoin(Feedback, Feedback.message_id == Message.id)
        .outerjoin(IntentLabel, IntentLabel.message_id == Message.id)
        .outerjoin(ReplyReview, ReplyReview.message_id == Message.id)
        .order_by(Message.id)
        .execution_options(yield_per=500)
    )
    if filters is not None:
        query = query.where(Message.conversation_id.in_(matching(filters)))
    with store.session() as session:
        for m, rating, label, verdict in session.execute(query):
            row = {
                "conversation_id": m.conversation_id, "message_id": m.id, "created_at": iso(m.created_at),
                "role": m.role, "text": redact(m.text), "intent": m.intent, "confidence": m.confidence,
                "route": m.route, "faq_id": m.faq_id, "score": m.score, "model_version": m.model_version,
                "latency_ms": m.latency_ms, "reply_id": m.reply_id, "rating": rating,
            }
            if agent_fields:
                row |= {"label": label, "review": verdict}
            yield row
