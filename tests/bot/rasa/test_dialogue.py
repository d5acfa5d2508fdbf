"""A turn's actions on a real rasa-sdk server: messages before events, follow-ups bounded, failures logged as Rasa."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.rasa import events
from bot.rasa.action_client import ActionRejected, ActionServer, ActionServerFailed
from bot.rasa.dialogue import ActionRunner, ActionTurn
from bot.rasa.domain import Domain
from bot.rasa.endpoints import ActionEndpoint
from bot.rasa.tracker import Tracker
from tests.bot.rasa.demo_domain import DOMAIN, SLOTS
from tests.servers import ActionServerProcess


def asked(text: str, intent: str, order: str | None = None) -> Tracker:
    entities = [] if order is None else [{"entity": "order_id", "start": text.index(order),
                                          "end": text.index(order) + len(order), "value": order,
                                          "extractor": "RegexEntityExtractor"}]
    tracker = Tracker("c1", SLOTS)
    tracker.apply(events.user(text, {"intent": {"name": intent, "confidence": 0.9}, "entities": entities,
                                     "text": text, "message_id": "m1", "metadata": {}}, "m1"))
    return tracker


def run(server: ActionServerProcess, tracker: Tracker, actions: list[str], max_chain: int = 10) -> ActionTurn:
    async def call() -> ActionTurn:
        client = ActionServer(ActionEndpoint(server.url, timeout_s=3), DOMAIN)
        try:
            return await ActionRunner(client, Domain.from_dict(DOMAIN), max_chain=max_chain).run(tracker, actions)
        finally:
            await client.aclose()

    return asyncio.run(call())




def kinds(turn: ActionTurn) -> list[tuple[str, Any]]:
    return [(e["event"], e.get("name", e.get("text"))) for e in turn.events]


def test_an_action_is_logged_then_its_messages_then_its_events(action_server: ActionServerProcess) -> None:
    tracker = asked("where is my order 4471?", "order_status", "4471")
    turn = run(action_server, tracker, ["action_order_status"])
    assert turn.failed is None and turn.actions == ["action_order_status"]
    assert [kind for kind, _ in kinds(turn)] == ["action", "bot", "slot"]
    assert "on its way with DHL" in turn.messages[0]["text"]
    assert turn.slots_before["order_id"] is None and turn.slots_after["order_id"] == "4471"
    assert tracker.latest_action_name == "action_order_status"


def test_a_followup_runs_next_and_the_chain_is_bounded(action_server: ActionServerProcess) -> None:
    turn = run(action_server, asked("status of 5120 please", "order_status", "5120"), ["action_then_status"])
    assert turn.actions == ["action_then_status", "action_order_status"]
    assert turn.messages[0]["text"] == "Let me look that up."
    assert "being packed" in turn.messages[1]["text"]
    looping = run(action_server, asked("hello", "greet"), ["action_forever"], max_chain=4)
    assert looping.actions == ["action_forever"] * 4 and looping.failed is None


def test_a_rejection_is_logged_as_rasa_logs_it(action_server: ActionServerProcess) -> None:
    turn = run(action_server, asked("cancel it", "cancel_order"), ["action_reject", "action_order_status"])
    assert isinstance(turn.failed, ActionRejected)
    assert kinds(turn) == [("action_execution_rejected", "action_reject")]
    assert turn.actions == ["action_reject"]  # the rest of the rule does not run


def test_a_broken_action_is_logged_with_no_events_and_ends_the_turn(action_server: ActionServerProcess) -> None:
    turn = run(action_server, asked("where is 4471", "order_status", "4471"), ["action_crash", "action_order_status"])
    assert isinstance(turn.failed, ActionServerFailed)
    assert kinds(turn) == [("action", "action_crash")] and turn.messages == []
    assert turn.slots_after == turn.slots_before


def test_an_unknown_event_is_skipped_and_the_rest_applied(action_server: ActionServerProcess) -> None:
    tracker = asked("hi", "greet")
    turn = run(action_server, tracker, ["action_strange_event"])
    assert kinds(turn) == [("action", "action_strange_event"), ("slot", "order_id")]
    assert tracker.slots["order_id"] == "3302"


def test_a_tracker_rebuilt_from_the_stored_events_is_the_same(action_server: ActionServerProcess) -> None:
    tracker = asked("where is my order 4471?", "order_status", "4471")
    run(action_server, tracker, ["action_order_status"])
    rebuilt = Tracker("c1", SLOTS, list(tracker.events))
    assert rebuilt.current_state() == tracker.current_state()
