"""The dialogue engine driven directly, without a web server, on the demo company and a real model."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from bot.runtime import build_engine
from bot.settings import Settings
from bot.store.models import Conversation
from bot.turn.engine import DialogueEngine
from bot.turn.memory import ConversationMemory
from bot.turn.outcome import BotReply
from bot.turn.policy import Route
from bot.workspace.exports import export_rows


@pytest.fixture(scope="module")
def engine(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> DialogueEngine:
    db = tmp_path_factory.mktemp("engine") / "helpline.db"
    return build_engine(Settings(data_dir=demo_data_dir, database_url=f"sqlite:///{db}"))


def ask(engine: DialogueEngine, conversation: str, text: str, client_id: str | None = None) -> BotReply:
    turn = engine.answer(conversation, text, client_id)
    assert turn.reply is not None, "the bot should have answered"
    return turn.reply


@pytest.fixture
def conversation(engine: DialogueEngine) -> str:
    return engine.store.open_conversation()[0]


def test_faq_question_is_answered_from_its_category(engine: DialogueEngine, conversation: str) -> None:
    reply = ask(engine, conversation, "How long does a refund take?")
    assert reply.route is Route.FAQ and reply.intent == "refunds"
    entry = engine.models.retriever.entry(reply.faq_id or "")
    assert entry is not None and entry.category == "refunds" and entry.answer == reply.text
    assert reply.model_version == engine.models.classifier.version and reply.latency_ms > 0


def test_smalltalk_gets_a_canned_reply(engine: DialogueEngine, conversation: str) -> None:
    reply = ask(engine, conversation, "thank you so much!")
    assert reply.route is Route.SMALLTALK and reply.intent == "thanks"
    assert reply.text in engine.replies.thanks


def test_asking_for_a_person_marks_the_conversation_waiting(engine: DialogueEngine, conversation: str) -> None:
    reply = ask(engine, conversation, "I want to talk to a real person please")
    assert reply.route is Route.HANDOFF and reply.text == engine.replies.handoff
    assert engine.store.state(conversation) == "waiting"
    silent = engine.answer(conversation, "hello? how long does a refund take?")
    assert silent.reply is None, "the bot must stay silent while the customer waits for a person"
    assert engine.store.history(conversation)[-1]["text"] == "hello? how long does a refund take?"


def test_two_fallbacks_in_a_row_bring_in_a_person(engine: DialogueEngine, conversation: str) -> None:
    first = ask(engine, conversation, "what's the capital of australia")
    assert first.route is Route.FALLBACK and engine.store.state(conversation) == "bot"
    second = engine.answer(conversation, "who won the football world cup in 1998")
    assert second.handoff == "fallbacks" and second.reply is not None
    assert second.reply.route is Route.HANDOFF and second.reply.text == engine.replies.handoff
    assert engine.store.state(conversation) == "waiting"


def test_fallbacks_before_handoff_is_a_setting(engine: DialogueEngine) -> None:
    eager = DialogueEngine(engine.models, engine.store, engine.replies,
                           engine.settings.model_copy(update={"fallbacks_before_handoff": 1}))
    conversation = eager.store.open_conversation()[0]
    turn = eager.answer(conversation, "what's the capital of australia")
    assert turn.handoff == "fallbacks" and eager.store.state(conversation) == "waiting"


def test_a_fallback_between_answers_does_not_count_twice(engine: DialogueEngine, conversation: str) -> None:
    assert ask(engine, conversation, "what's the capital of australia").route is Route.FALLBACK
    assert ask(engine, conversation, "How long does a refund take?").route is Route.FAQ
    assert ask(engine, conversation, "who won the football world cup in 1998").route is Route.FALLBACK
    assert engine.store.state(conversation) == "bot"


def test_a_message_reopens_a_closed_conversation(engine: DialogueEngine, conversation: str) -> None:
    assert engine.store.transition(conversation, ("bot",), "closed")
    assert ask(engine, conversation, "Do you ship to Norway?").route is Route.FAQ
    assert engine.store.state(conversation) == "bot"


def test_out_of_scope_falls_back_with_suggestions(engine: DialogueEngine, conversation: str) -> None:
    reply = ask(engine, conversation, "what's the capital of australia")
    assert reply.route is Route.FALLBACK
    assert len(reply.suggestions) == 3
    questions = {e.question for e in engine.models.retriever.entries}
    assert set(reply.suggestions) <= questions


def test_short_follow_up_stays_on_the_earlier_topic(engine: DialogueEngine, conversation: str) -> None:
    first = ask(engine, conversation, "I sent my jacket back, when will I get my refund?")
    assert first.intent == "refunds"
    follow = ask(engine, conversation, "how long does that take?")
    assert follow.followed_up and follow.intent == "refunds" and follow.route is Route.FAQ
    entry = engine.models.retriever.entry(follow.faq_id or "")
    assert entry is not None and entry.category == "refunds"


def test_every_turn_is_logged_with_its_decision(engine: DialogueEngine, conversation: str) -> None:
    reply = ask(engine, conversation, "Do you ship to Norway?", client_id="c9")
    logged = [r for r in export_rows(engine.store) if r["conversation_id"] == conversation]
    customer, bot = logged
    assert customer["role"] == "customer" and customer["intent"] == reply.intent
    assert bot["reply_id"] == reply.reply_id and bot["route"] == "faq" and bot["faq_id"] == reply.faq_id
    assert bot["model_version"] == reply.model_version and bot["latency_ms"] == pytest.approx(reply.latency_ms)


def test_a_socket_remembers_the_conversation_between_turns(engine: DialogueEngine, conversation: str) -> None:
    memory = ConversationMemory.read(engine.store, conversation, engine.settings.context_turns)
    first = engine.answer(conversation, "I sent my jacket back, when will I get my refund?", None, memory)
    assert first.reply is not None and memory.recent[0].route == "faq"  # the follow-up needs no database read
    follow = engine.answer(conversation, "how long does that take?", None, memory)
    assert follow.reply is not None and follow.reply.followed_up
    engine.answer(conversation, "what's the capital of australia", None, memory)
    handed = engine.answer(conversation, "what's the capital of australia", None, memory)
    assert handed.handoff == "fallbacks" and memory.state == "waiting" == engine.store.state(conversation)
    assert engine.store.transition(conversation, ("waiting",), "bot")  # an agent hands back, on any replica,
    memory.heard({"type": "state", "state": "bot", "agent": None})  # and its state event reaches the socket
    back = engine.answer(conversation, "Do you ship to Norway?", None, memory)
    assert back.reply is not None and back.reply.route is Route.FAQ


def test_the_bot_never_answers_over_an_agent_who_just_took_over(engine: DialogueEngine, conversation: str) -> None:
    memory = ConversationMemory.read(engine.store, conversation, engine.settings.context_turns)
    with engine.store.session() as session, session.begin():  # an agent accepts; its event is still on its way
        session.execute(update(Conversation).where(Conversation.id == conversation).values(state="agent"))
    turn = engine.answer(conversation, "Do you ship to Norway?", "c1", memory)
    assert turn.reply is None and memory.state == "agent"
    logged = [(r["role"], r["intent"]) for r in export_rows(engine.store) if r["conversation_id"] == conversation]
    assert logged == [("customer", None)]  # kept for the agent, no bot reply
