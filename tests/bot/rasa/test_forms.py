"""Forms run as Rasa core runs them, against a real rasa-sdk server: what the validator is sent, the question
asked, the answer taken, the rejection when nothing came, and the end of the form."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from bot.rasa import events
from bot.rasa.action_client import ActionServer
from bot.rasa.dialogue import ActionRunner, ActionTurn
from bot.rasa.domain import Domain
from bot.rasa.endpoints import ActionEndpoint
from bot.rasa.rules import Rules
from bot.rasa.slots import Message, SlotFiller
from bot.rasa.tracker import REQUESTED_SLOT, Tracker
from tests.bot.rasa.demo_domain import DOMAIN, SLOTS
from tests.servers import ActionServerProcess

PROBE = copy.deepcopy(DOMAIN)
PROBE["forms"]["probe_form"] = {"required_slots": ["order_id", "return_reason"]}
PROBE["actions"] = [*PROBE["actions"], "validate_probe_form"]
PROBE["slots"]["return_reason"]["mappings"].append(
    {"type": "from_text", "conditions": [{"active_loop": "probe_form", "requested_slot": "return_reason"}]})
DOMAIN_ = Domain.from_dict(PROBE)
FILLER = SlotFiller(PROBE["slots"], PROBE["forms"], entities=DOMAIN_.entities, intents=DOMAIN_.intents)


def say(tracker: Tracker, text: str, intent: str, order: str | None = None) -> None:
    """A customer message, with the slots its mappings fill (as the assistant adds it)."""
    entities = [] if order is None else [{"entity": "order_id", "start": text.index(order), "value": order,
                                          "end": text.index(order) + len(order), "extractor": "regex"}]
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities, "text": text,
             "message_id": None, "metadata": {}}
    tracker.apply(events.user(text, parse, None))
    requested = tracker.slots.get(REQUESTED_SLOT)
    for event in FILLER.extract(tracker.slots, Message.from_parse_data(parse), tracker.active_loop_name,
                                requested if isinstance(requested, str) else None, emit_unchanged=True):
        tracker.apply(event)


def run(server: ActionServerProcess, tracker: Tracker, actions: list[str]) -> ActionTurn:
    async def call() -> ActionTurn:
        client = ActionServer(ActionEndpoint(server.url, timeout_s=5), PROBE)
        try:
            runner = ActionRunner(client, DOMAIN_, Rules(form_submits={"return_form": ("action_submit_return",)}),
                                  FILLER)
            return await runner.run(tracker, actions)
        finally:
            await client.aclose()

    turn = asyncio.run(call())
    tracker.apply(events.action("action_listen"))
    return turn


def probe(turn: ActionTurn) -> dict[str, Any]:
    """What the probe validator said it was sent (its ``json_message``)."""
    seen: dict[str, Any] = next(m["data"]["custom"] for m in turn.messages if m["data"].get("custom"))
    return seen


def test_the_validator_is_sent_the_candidates_last_and_the_form_asks_the_next_slot(
        action_server: ActionServerProcess) -> None:
    tracker = Tracker("f1", SLOTS | {"return_reason": None})
    say(tracker, "return order 4471", "return_item", "4471")
    turn = run(action_server, tracker, ["probe_form"])
    seen = probe(turn)
    # Rasa's activation call: [slot requested_slot, action <form>, the prefilled candidates]
    assert seen["tail"] == [["slot", "requested_slot", None], ["action", "probe_form", None],
                            ["slot", "order_id", "4471"]]
    assert seen["latest_action"] == "probe_form" and seen["active_loop"] == "probe_form"
    assert seen["slots_to_validate"] == {"order_id": "4471"}
    assert [(e["event"], e.get("name")) for e in turn.events][:2] == [("action", "probe_form"),
                                                                      ("active_loop", "probe_form")]
    assert tracker.active_loop_name == "probe_form" and tracker.slots[REQUESTED_SLOT] == "return_reason"
    assert [m["text"] for m in turn.messages] == [None]  # the probe's message; the domain has no question for it
    # the answer: the slot the form asked for, validated with the slot it asked for set
    say(tracker, "too small", "inform")
    answered = run(action_server, tracker, ["probe_form"])
    seen = probe(answered)
    assert seen["requested"] == "return_reason" and seen["slots_to_validate"] == {"return_reason": "too small"}
    assert seen["tail"][-1] == ["slot", "return_reason", "too small"]
    # nothing left to ask: requested_slot null, the form ends
    assert [(e["event"], e.get("name"), e.get("value")) for e in answered.events][-2:] == [
        ("slot", "requested_slot", None), ("active_loop", None, None)]
    assert tracker.active_loop_name is None and tracker.slots["return_reason"] == "too small"


def test_a_message_that_fills_nothing_rejects_the_form_and_the_form_resumes(
        action_server: ActionServerProcess) -> None:
    tracker = Tracker("f2", SLOTS)
    say(tracker, "I want to return something", "return_item")
    asked = run(action_server, tracker, ["return_form"])
    assert tracker.slots[REQUESTED_SLOT] == "order_id" and "Which order" in asked.messages[-1]["text"]
    say(tracker, "do you ship to Norway?", "shipping")  # not an order number: nothing for order_id
    rejected = run(action_server, tracker, ["return_form"])
    assert rejected.form_rejected == "return_form" and rejected.messages == []
    assert [(e["event"], e.get("name")) for e in rejected.events] == [("action_execution_rejected", "return_form")]
    assert tracker.active_loop["rejected"] is True and tracker.active_loop_name == "return_form"
    tracker.apply(events.loop_interrupted(True))  # answered some other way, then back to the form
    resumed = run(action_server, tracker, ["return_form"])
    assert resumed.form_rejected is None and "Which order" in resumed.messages[-1]["text"]
    assert tracker.active_loop == {**tracker.active_loop, "rejected": False, "is_interrupted": False}


def test_a_validator_that_clears_a_slot_gets_it_asked_again_and_a_full_form_is_submitted(
        action_server: ActionServerProcess) -> None:
    tracker = Tracker("f3", SLOTS)
    say(tracker, "return 9999", "return_item", "9999")
    first = run(action_server, tracker, ["return_form"])
    texts = [m["text"] for m in first.messages]
    assert "I can't find an order 9999" in texts[0] and "Which order" in texts[1]
    assert tracker.slots["order_id"] is None and tracker.slots[REQUESTED_SLOT] == "order_id"
    for text, intent, order in (("3302", "inform", "3302"), ("they pinch", "inform", None), ("yes", "affirm", None)):
        say(tracker, text, intent, order)
        last = run(action_server, tracker, ["return_form"])
    assert last.actions == ["return_form", "action_submit_return"]
    assert "3302" in last.messages[-1]["text"] and tracker.active_loop_name is None
