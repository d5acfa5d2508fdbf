"""Conversations with a row in every table that hangs off one, for the erasure and retention tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from bot.learning import faq_proposals, gaps
from bot.services.faq import gap_entry
from bot.store.models import Base, Conversation
from bot.store.senders import ChannelSender
from bot.store.transcripts import BotReplyRecord, TranscriptStore
from bot.workspace import review


@dataclass(frozen=True)
class Filled:
    """A conversation as a customer, the bot and agents left it; ``texts`` is everything anyone wrote in it."""

    id: str
    token: str
    texts: tuple[str, ...]


def fill_conversation(store: TranscriptStore, agent_id: int, name: str) -> Filled:
    """A conversation with messages of every role, a rating, a label, a review, a note, tags, a gap link, a
    proposed FAQ entry, Rasa events and a Rasa channel's sender name; every text carries ``name`` so a leftover is
    easy to find."""
    conversation, token = store.open_conversation()
    asked = f"{name}: my card was charged twice"
    answer = f"{name}: refunds take 5-7 days"
    fallback_q, fallback_a = f"{name}: do you sell gift wrap", f"{name}: sorry, I did not get that"
    note, agent_text, notice = f"{name}: VIP, call back", f"{name}: Hi, Maya here", f"{name}: Maya joined"
    message_id, reply_id = store.log_turn(conversation, asked, "c1", BotReplyRecord(
        f"{name}-r1", answer, "refunds", 0.97, route="faq", faq_id="refund-time"))
    unanswered, _ = store.log_replies(conversation, fallback_q, "c2", BotReplyRecord(
        f"{name}-r2", fallback_a, "out_of_scope", 0.3, route="fallback"),
        [BotReplyRecord(f"{name}-r2", fallback_a, "out_of_scope", 0.3, route="fallback")],
        rasa_events=[{"event": "user", "text": fallback_q}, {"event": "slot", "name": "order_id", "value": name}])
    assert reply_id is not None
    store.record_feedback(conversation, f"{name}-r1", "up")
    review.label_intent(store, message_id, "double_charge", agent_id)
    review.review_reply(store, reply_id, "good", agent_id)
    review.add_note(store, conversation, agent_id, note)
    review.set_tags(store, conversation, ["vip", name])
    gaps.cover_with_faq(store, [unanswered], "gift-wrap", agent_id)
    faq_proposals.propose(store, gap_entry(f"Is a charge ever taken twice? ({name})", "No: the first is a hold."),
                          [message_id], agent_id)
    store.log_message(conversation, "system", notice)
    store.log_message(conversation, "agent", agent_text, agent_id)
    sender = f"{name}@example.com"  # a REST client's name for the conversation (personal data too)
    with store.session() as session, session.begin():
        session.add(ChannelSender(channel="rest", sender=sender, conversation_id=conversation))
    return Filled(conversation, token, (asked, answer, fallback_q, fallback_a, note, agent_text, notice, sender))


def table_counts(store: TranscriptStore) -> dict[str, int]:
    """Rows in every table of the schema."""
    with store.session() as session:
        return {table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables}


def make_idle(store: TranscriptStore, conversation_id: str, since: datetime) -> None:
    """Data setup: the conversation's last activity moved back to ``since``."""
    with store.session() as session, session.begin():
        session.execute(update(Conversation).where(Conversation.id == conversation_id).values(updated_at=since))
