"""Rasa turns driven through the engine, without a web server: the parts of Rasa that a team's action package
may lean on beyond the demo's — its own session start, and a fallback rule on ``nlu_fallback``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest

from bot.rasa.assistant import load_assistant
from bot.runtime import build_engine
from bot.settings import Settings
from bot.turn.engine import DialogueEngine
from bot.turn.outcome import Turn
from bot.turn.policy import Route
from tests.api.rasa_company import rasa_company
from tests.servers import ActionServerProcess
from training.model import Classifier


def own_session_start_and_fallback(domain: dict[str, Any], rules: list[dict[str, Any]]) -> None:
    domain["actions"] += ["action_session_start", "action_did_you_mean"]
    domain["slots"]["customer_tier"] = {"type": "text", "influence_conversation": False, "mappings": []}
    rules.append({"rule": "unsure", "steps": [{"intent": "nlu_fallback"}, {"action": "action_did_you_mean"}]})


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path,
           action_server: ActionServerProcess) -> DialogueEngine:
    root = tmp_path_factory.mktemp("rasa-turn")
    data_dir = rasa_company(root, demo_data_dir, own_session_start_and_fallback)
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{root / 'helpline.db'}",
                        action_endpoint_url=action_server.url, action_timeout_s=3)
    engine = build_engine(settings)
    engine.assistant = load_assistant(settings)
    return engine


def say(engine: DialogueEngine, conversation: str, text: str) -> Turn:
    return asyncio.run(engine.respond(conversation, text))


def said(turn: Turn) -> list[str]:
    return [reply.text for reply in (turn.reply, *turn.more) if reply is not None]


def test_the_team_s_own_session_start_runs_on_its_action_server(engine: DialogueEngine) -> None:
    conversation = engine.store.open_conversation()[0]
    first = say(engine, conversation, "/order_status")
    assert said(first)[0] == "Welcome to Northwind!" and "Which order" in said(first)[-1]
    assert first.reply is not None and first.reply.action == "action_session_start"
    stored = engine.store.rasa_events(conversation)
    assert [e["event"] for e in stored[:4]] == ["action", "bot", "session_started", "slot"]
    assert stored[0]["name"] == "action_session_start"
    assert {"event": "slot", "name": "customer_tier", "value": "gold"}.items() <= stored[3].items()
    again = say(engine, conversation, "it's 4471")
    assert "Welcome" not in " ".join(said(again)), "a session starts once"


def test_an_unsure_message_is_rasa_s_nlu_fallback_and_its_rule_answers(engine: DialogueEngine) -> None:
    classifier = cast(Classifier, engine.models.classifier)
    kept, classifier.threshold = classifier.threshold, 0.9999  # every message is unsure
    try:
        conversation = engine.store.open_conversation()[0]
        say(engine, conversation, "/deny")  # a payload is never unsure
        turn = say(engine, conversation, "how long does a refund take")
    finally:
        classifier.threshold = kept
    assert turn.reply is not None and turn.reply.route is Route.ACTION
    assert said(turn)[-1] == "Did you mean refunds?"
    events = engine.store.rasa_events(conversation)
    user = [e for e in events if e["event"] == "user"][-1]
    assert user["parse_data"]["intent"]["name"] == "nlu_fallback"
    assert [r["name"] for r in user["parse_data"]["intent_ranking"][:2]] == ["nlu_fallback", "refunds"]
    assert events[-2]["event"] == "rewind"  # the unclear message is taken back, as the action asked
    assert engine.assistant is not None
    tracker = engine.assistant.tracker(conversation, events)
    assert tracker.latest_message["text"] == "/deny"
