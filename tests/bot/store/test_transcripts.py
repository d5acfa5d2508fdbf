"""The transcript store on real SQLite and real PostgreSQL: the same code, the same behaviour."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.store.models import Conversation, Message
from bot.store.transcripts import BotReplyRecord, TranscriptStore, UnknownConversation, UnknownReply
from bot.workspace.exports import export_rows


def reply(reply_id: str, text: str = "Refunds take 5-7 business days.") -> BotReplyRecord:
    return BotReplyRecord(
        reply_id=reply_id, text=text, intent="refunds", confidence=0.91, ranking=[["refunds", 0.91]],
        route="faq", faq_id="refund-time", score=0.83, model_version="v1", latency_ms=12.5,
    )


def test_token_resumes_only_its_conversation(store: TranscriptStore) -> None:
    conversation, token = store.open_conversation()
    other, other_token = store.open_conversation()
    store.authenticate(conversation, token)
    with pytest.raises(UnknownConversation):
        store.authenticate(conversation, other_token)
    with pytest.raises(UnknownConversation):
        store.authenticate("nope", token)
    assert store.state(other) == "bot"


def test_turn_is_logged_with_its_decision_and_history_in_order(store: TranscriptStore) -> None:
    conversation, _ = store.open_conversation()
    store.log_turn(conversation, "when do I get my money back?", "c1", reply("r1"))
    history = store.history(conversation)
    assert [(m["role"], m["text"]) for m in history] == [
        ("customer", "when do I get my money back?"),
        ("bot", "Refunds take 5-7 business days."),
    ]
    rows = list(export_rows(store))
    assert rows[0]["intent"] == "refunds" and rows[0]["route"] == "faq" and rows[0]["model_version"] == "v1"
    assert rows[1]["faq_id"] == "refund-time" and rows[1]["score"] == pytest.approx(0.83)
    assert rows[1]["latency_ms"] == pytest.approx(12.5)
    recent = store.recent_customer_turns(conversation, 3)
    assert recent[0].route == "faq" and recent[0].text == "when do I get my money back?"


def test_feedback_is_stored_changed_and_checked(store: TranscriptStore) -> None:
    conversation, _ = store.open_conversation()
    other, _ = store.open_conversation()
    store.log_turn(conversation, "refund?", None, reply("r2"))
    store.record_feedback(conversation, "r2", "down")
    store.record_feedback(conversation, "r2", "up")
    assert store.history(conversation)[-1]["rating"] == "up"
    with pytest.raises(UnknownReply):
        store.record_feedback(other, "r2", "down")  # another conversation's reply
    with pytest.raises(UnknownReply):
        store.record_feedback(conversation, "missing", "down")


def test_failed_write_leaves_nothing_half_written(store: TranscriptStore) -> None:
    conversation, _ = store.open_conversation()
    store.log_turn(conversation, "refund?", None, reply("dup"))
    with pytest.raises(IntegrityError):  # a reply id used twice: the whole second turn is refused
        store.log_turn(conversation, "and for boots?", None, reply("dup", text="a different answer"))
    with store.session() as session:
        texts = session.scalars(select(Message.text).order_by(Message.id)).all()
        counted = session.get(Conversation, conversation)
    assert texts == ["refund?", "Refunds take 5-7 business days."]  # not the question without its answer
    assert counted is not None and counted.message_count == 2


def test_history_is_capped_to_the_newest(store: TranscriptStore) -> None:
    conversation, _ = store.open_conversation()
    for i in range(6):
        store.log_customer(conversation, f"message {i}")
    assert [m["text"] for m in store.history(conversation, limit=3)] == ["message 3", "message 4", "message 5"]


def test_rasa_events_are_kept_in_order_per_conversation_and_survive_a_new_store(store: TranscriptStore) -> None:
    conversation, _ = store.open_conversation()
    other, _ = store.open_conversation()
    store.add_rasa_events(conversation, [
        {"event": "user", "timestamp": 1.0, "text": "where is order 4471?", "parse_data": {}},
        {"event": "slot", "timestamp": 1.1, "name": "order_id", "value": "4471"},
    ])
    store.add_rasa_events(other, [{"event": "slot", "timestamp": 2.0, "name": "order_id", "value": "5120"}])
    store.add_rasa_events(conversation, [{"event": "action", "timestamp": 1.2, "name": "action_order_status"}])
    reopened = TranscriptStore(store.engine)  # what a reconnect (or another replica) reads
    assert [(e["event"], e.get("value") or e.get("name")) for e in reopened.rasa_events(conversation)] == [
        ("user", None), ("slot", "4471"), ("action", "action_order_status"),
    ]
    assert [e["value"] for e in reopened.rasa_events(other)] == ["5120"]
