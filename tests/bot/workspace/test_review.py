"""Agents' corrections on real SQLite and real PostgreSQL: intent labels, verdicts, notes and tags."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.store.models import IntentLabel, ReplyReview
from bot.store.transcripts import BotReplyRecord, TranscriptStore, UnknownConversation
from bot.workspace import review
from bot.workspace.accounts import Accounts


@pytest.fixture
def agent_id(store: TranscriptStore) -> int:
    return Accounts(store).add_agent("maya", "correct horse battery", display_name="Maya").id


def a_turn(store: TranscriptStore) -> tuple[str, int, int]:
    conversation, _ = store.open_conversation()
    asked, answer = store.log_turn(conversation, "my card was charged twice", None,
                                   BotReplyRecord("r1", "Refunds take 5-7 days.", "refunds", 0.6))
    assert answer is not None
    return conversation, asked, answer


def test_intent_label_is_upserted_for_customer_messages_only(store: TranscriptStore, agent_id: int) -> None:
    _, asked, answer = a_turn(store)
    review.label_intent(store, asked, "refunds", agent_id)
    review.label_intent(store, asked, "double_charge", agent_id)  # a new intent name, replacing the first
    with store.session() as session:
        assert session.scalars(select(IntentLabel.intent).where(IntentLabel.message_id == asked)).all() == [
            "double_charge"
        ]
    assert review.labelled_examples(store) == [("my card was charged twice", "double_charge")]
    assert review.known_intents(store, ["refunds", "shipping"]) == ["double_charge", "refunds", "shipping"]
    with pytest.raises(review.WrongMessageRole):
        review.label_intent(store, answer, "refunds", agent_id)
    with pytest.raises(review.UnknownMessage):
        review.label_intent(store, 999_999, "refunds", agent_id)
    for bad in ("Refunds", "two words", "", "x" * 65):
        with pytest.raises(review.InvalidLabel):
            review.label_intent(store, asked, bad, agent_id)


def test_verdicts_are_for_bot_replies_only(store: TranscriptStore, agent_id: int) -> None:
    _, asked, answer = a_turn(store)
    review.review_reply(store, answer, "bad", agent_id)
    review.review_reply(store, answer, "good", agent_id)
    with store.session() as session:
        assert session.scalars(select(ReplyReview.verdict)).all() == ["good"]
    with pytest.raises(review.WrongMessageRole):
        review.review_reply(store, asked, "good", agent_id)
    with pytest.raises(review.InvalidLabel):
        review.review_reply(store, answer, "meh", agent_id)


def test_notes_and_tags(store: TranscriptStore, agent_id: int) -> None:
    conversation, _, _ = a_turn(store)
    note = review.add_note(store, conversation, agent_id, "  called back  ")
    assert note["agent"] == "Maya" and note["text"] == "called back" and note["created_at"].endswith("+00:00")
    with pytest.raises(review.InvalidLabel):
        review.add_note(store, conversation, agent_id, "   ")
    with pytest.raises(UnknownConversation):
        review.add_note(store, "nope", agent_id, "hello")
    assert review.set_tags(store, conversation, ["vip", " billing ", "vip"]) == ["billing", "vip"]
    assert review.set_tags(store, conversation, ["urgent"]) == ["urgent"]  # replaces
    with store.session() as session:
        from bot.store.models import ConversationTag

        assert session.scalar(select(func.count()).select_from(ConversationTag)) == 1
    with pytest.raises(review.InvalidLabel):
        review.set_tags(store, conversation, ["x" * 65])
    with pytest.raises(review.InvalidLabel):
        review.set_tags(store, conversation, [" "])
    with pytest.raises(UnknownConversation):
        review.set_tags(store, "nope", ["vip"])
