"""The agents' inbox on real SQLite and real PostgreSQL: filters, keyset pages, transcripts, export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.store.models import Conversation
from bot.store.transcripts import BotReplyRecord, TranscriptStore, UnknownConversation
from bot.workspace import inbox, review
from bot.workspace.accounts import Accounts, AgentInfo
from bot.workspace.exports import AGENT_EXPORT_FIELDS, export_rows
from bot.workspace.inbox import InboxFilter, InvalidCursor, InvalidFilter, list_conversations

PASSWORD = "correct horse battery"
REPLIES = {
    "refunds": "Refunds take 5-7 business days.", "shipping": "Parcels arrive in 3 days.",
    "human_agent": "Connecting you to a person.", "goodbye": "Bye!",
}


def bot_reply(reply_id: str, route: str = "faq", intent: str = "refunds", confidence: float = 0.9) -> BotReplyRecord:
    fallback = route == "fallback"
    text = REPLIES.get(intent, "I'm not sure.")
    return BotReplyRecord(
        reply_id=reply_id, text=text,
        intent=intent, confidence=confidence, ranking=[[intent, confidence], ["shipping", 0.05], ["oos", 0.03]],
        route=route, faq_id=None if fallback else "refund-time", score=None if fallback else 0.8,
        model_version="v1", latency_ms=9.5, flagged=fallback or confidence < 0.5,
    )


def turn(store: TranscriptStore, conversation: str, text: str, reply: BotReplyRecord) -> tuple[int, int]:
    asked, answer = store.log_turn(conversation, text, None, reply)
    assert answer is not None
    return asked, answer


@dataclass
class Seeded:
    maya: AgentInfo
    sam: AgentInfo
    ids: dict[str, str]  # name -> conversation id
    messages: dict[str, int]


@pytest.fixture
def seeded(store: TranscriptStore) -> Seeded:
    """Six conversations, oldest first: a refund, a fallback, a waiting one, Maya's, a down-rated one, a closed one."""
    accounts = Accounts(store)
    maya = accounts.add_agent("maya", PASSWORD, display_name="Maya")
    sam = accounts.add_agent("sam", PASSWORD, display_name="Sam")
    ids, messages = {}, {}
    for name in ("refund", "fallback", "waiting", "mine", "negative", "closed"):
        ids[name] = store.open_conversation()[0]
    messages["refund_q"], messages["refund_a"] = turn(
        store, ids["refund"], "When is my REFUND coming?", bot_reply("r1")
    )
    messages["fallback_q"], _ = turn(store, ids["fallback"], "blue elephant", bot_reply("r2", "fallback", "oos", 0.3))
    turn(store, ids["waiting"], "I want a person", bot_reply("r3", "handoff", "human_agent"))
    store.transition(ids["waiting"], ("bot",), "waiting")
    turn(store, ids["mine"], "where is my parcel", bot_reply("r4", intent="shipping"))
    store.transition(ids["mine"], ("bot",), "agent", maya.id)
    store.log_message(ids["mine"], "agent", "Let me check 50% of that_", maya.id)
    turn(store, ids["negative"], "refund for boots?", bot_reply("r5"))
    store.record_feedback(ids["negative"], "r5", "down")
    turn(store, ids["closed"], "thanks, bye", bot_reply("r6", "smalltalk", "goodbye"))
    store.transition(ids["closed"], ("bot",), "closed")
    return Seeded(maya, sam, ids, messages)


def ids_of(store: TranscriptStore, seeded: Seeded, **filters: object) -> list[str]:
    page = list_conversations(store, InboxFilter(agent_id=seeded.maya.id, **filters))  # type: ignore[arg-type]
    names = {v: k for k, v in seeded.ids.items()}
    return [names[item["id"]] for item in page.items]


def test_inbox_is_newest_first_with_summaries(store: TranscriptStore, seeded: Seeded) -> None:
    page = list_conversations(store, InboxFilter())
    assert [item["id"] for item in page.items] == [seeded.ids[n] for n in
                                                   ("closed", "negative", "mine", "waiting", "fallback", "refund")]
    mine = next(item for item in page.items if item["id"] == seeded.ids["mine"])
    assert mine["state"] == "agent" and mine["assigned_agent"] == "Maya"
    assert mine["message_count"] == 3 and mine["last_message"] == "Let me check 50% of that_"
    assert page.next_cursor is None
    assert set(mine) == {"id", "state", "assigned_agent", "created_at", "updated_at", "last_message",
                         "message_count", "flagged", "negative_feedback", "tags"}


@pytest.mark.parametrize(("status", "expected"), [
    ("waiting", ["waiting"]),
    ("mine", ["mine"]),
    ("flagged", ["fallback"]),
    ("negative", ["negative"]),
    ("closed", ["closed"]),
    ("open", ["negative", "mine", "waiting", "fallback", "refund"]),
])
def test_status_filters(store: TranscriptStore, seeded: Seeded, status: str, expected: list[str]) -> None:
    assert ids_of(store, seeded, status=status) == expected


def test_mine_means_the_asking_agent(store: TranscriptStore, seeded: Seeded) -> None:
    page = list_conversations(store, InboxFilter(status="mine", agent_id=seeded.sam.id))
    assert page.items == []
    with pytest.raises(InvalidFilter):
        InboxFilter(status="mine")
    with pytest.raises(InvalidFilter):
        InboxFilter(status="everything")


def test_intent_filter_sees_predictions_and_corrections(store: TranscriptStore, seeded: Seeded) -> None:
    assert ids_of(store, seeded, intent="shipping") == ["mine"]
    assert ids_of(store, seeded, intent="refunds") == ["negative", "refund"]
    review.label_intent(store, seeded.messages["fallback_q"], "lost_elephant", seeded.maya.id)
    assert ids_of(store, seeded, intent="lost_elephant") == ["fallback"]


def test_tag_filter(store: TranscriptStore, seeded: Seeded) -> None:
    review.set_tags(store, seeded.ids["refund"], ["vip", "billing"])
    review.set_tags(store, seeded.ids["closed"], ["billing"])
    assert ids_of(store, seeded, tag="billing") == ["closed", "refund"]
    assert ids_of(store, seeded, tag="vip") == ["refund"]
    page = list_conversations(store, InboxFilter(tag="billing"))
    assert page.items[1]["tags"] == ["billing", "vip"]


def test_full_text_search_is_case_insensitive_and_literal(store: TranscriptStore, seeded: Seeded) -> None:
    assert ids_of(store, seeded, q="refund") == ["negative", "refund"]  # "REFUND" and "refund"
    assert ids_of(store, seeded, q="5-7 business") == ["negative", "refund"]  # bot replies count too
    assert ids_of(store, seeded, q="50%") == ["mine"]  # % and _ are matched literally
    assert ids_of(store, seeded, q="that_") == ["mine"]
    assert ids_of(store, seeded, q="th_t") == []
    assert ids_of(store, seeded, q="elephant", status="flagged") == ["fallback"]


def test_date_range(store: TranscriptStore, seeded: Seeded) -> None:
    old_start = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    with store.session() as session, session.begin():
        session.execute(update(Conversation).where(Conversation.id == seeded.ids["refund"])
                        .values(created_at=old_start, updated_at=old_start + timedelta(days=2)))
    assert ids_of(store, seeded, until=inbox.parse_bound("2024-03-01", end=True)) == ["refund"]
    assert ids_of(store, seeded, until=inbox.parse_bound("2024-02-29", end=True)) == []
    assert "refund" not in ids_of(store, seeded, since=inbox.parse_bound("2024-03-04"))
    week = {"since": inbox.parse_bound("2024-03-03"), "until": inbox.parse_bound("2024-03-10", end=True)}
    assert ids_of(store, seeded, **week) == ["refund"]
    assert inbox.parse_bound("2024-03-03T10:00:00+02:00") == datetime(2024, 3, 3, 8, 0, tzinfo=UTC)
    for value, end in (("yesterday", False), ("9999-12-31", True), ("0001-01-01T00:00:00+01:00", False)):
        with pytest.raises(InvalidFilter):  # not a date, or its bound is no datetime (the day after the last)
            inbox.parse_bound(value, end)


def test_keyset_pages_cover_everything_once_even_with_ties(store: TranscriptStore, seeded: Seeded) -> None:
    filtered = list_conversations(store, InboxFilter(status="open"), limit=2)
    second = list_conversations(store, InboxFilter(status="open"), limit=2, cursor=filtered.next_cursor)
    assert [i["id"] for i in second.items] == [seeded.ids["waiting"], seeded.ids["fallback"]]
    extra = [store.open_conversation()[0] for _ in range(5)]
    for conversation in extra:
        store.log_customer(conversation, "hello?")
    store.open_conversation()  # opened and never written in: not in the inbox
    tie = datetime(2030, 1, 1, tzinfo=UTC)
    with store.session() as session, session.begin():  # five rows with the very same updated_at
        session.execute(update(Conversation).where(Conversation.id.in_(extra)).values(updated_at=tie))
    seen, cursor, pages = [], None, 0
    while True:
        page = list_conversations(store, InboxFilter(), limit=4, cursor=cursor)
        seen += [item["id"] for item in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 11 and len(set(seen)) == 11
    assert seen[:5] == sorted(extra, reverse=True)
    with pytest.raises(InvalidCursor):
        list_conversations(store, InboxFilter(), cursor="not-a-cursor")


def test_transcript_explains_each_bot_turn(store: TranscriptStore, seeded: Seeded) -> None:
    questions = {"refund-time": "How long does a refund take?"}
    review.label_intent(store, seeded.messages["refund_q"], "refund_status", seeded.maya.id)
    review.review_reply(store, seeded.messages["refund_a"], "good", seeded.sam.id)
    review.add_note(store, seeded.ids["refund"], seeded.maya.id, "customer <b>angry</b>")
    detail = inbox.read_conversation(store, seeded.ids["refund"], questions.get)
    asked, answer = detail["messages"]
    assert asked["role"] == "customer" and asked["label"] == "refund_status" and asked["intent"] == "refunds"
    assert answer["role"] == "bot" and answer["review"] == "good" and answer["route"] == "faq"
    assert answer["faq_question"] == "How long does a refund take?" and answer["score"] == pytest.approx(0.8)
    assert answer["ranking"][1:3] == [["shipping", 0.05], ["oos", 0.03]]
    assert answer["model_version"] == "v1" and answer["latency_ms"] == pytest.approx(9.5)
    assert detail["notes"][0]["agent"] == "Maya" and detail["notes"][0]["text"] == "customer <b>angry</b>"
    mine = inbox.read_conversation(store, seeded.ids["mine"], questions.get)
    assert mine["messages"][-1]["role"] == "agent" and mine["messages"][-1]["agent"] == "Maya"
    with pytest.raises(UnknownConversation):
        inbox.read_conversation(store, "nope", questions.get)


def test_export_of_filtered_conversations(store: TranscriptStore, seeded: Seeded) -> None:
    review.label_intent(store, seeded.messages["refund_q"], "refund_status", seeded.maya.id)
    review.review_reply(store, seeded.messages["refund_a"], "bad", seeded.maya.id)
    rows = list(export_rows(store, filters=InboxFilter(intent="refunds"), agent_fields=True))
    assert [(r["conversation_id"], r["role"]) for r in rows] == [
        (seeded.ids["refund"], "customer"), (seeded.ids["refund"], "bot"),
        (seeded.ids["negative"], "customer"), (seeded.ids["negative"], "bot"),
    ]
    assert tuple(rows[0]) == AGENT_EXPORT_FIELDS
    assert rows[0]["label"] == "refund_status" and rows[1]["review"] == "bad" and rows[3]["rating"] == "down"
    assert rows[1]["faq_id"] == "refund-time" and rows[1]["model_version"] == "v1"
    assert len(list(export_rows(store, filters=InboxFilter()))) == 13
