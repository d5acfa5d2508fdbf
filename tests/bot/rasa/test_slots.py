"""Slot filling as Rasa's action_extract_slots does it, and slot values as Rasa's slot types keep them."""

from __future__ import annotations

from typing import Any

import pytest

from bot.rasa.slots import (
    InvalidSlotConfig,
    Message,
    SlotFiller,
    bool_from_any,
    coerce_slot_value,
    extract_slots,
    initial_slots,
    is_valid_slot_value,
    stored_value,
)
from bot.rasa.tracker import Tracker

SLOTS: dict[str, dict[str, Any]] = {
    "order_id": {"type": "text", "mappings": [{"type": "from_entity", "entity": "order_id"}]},
    "order_ids": {"type": "list", "mappings": [{"type": "from_entity", "entity": "order_id"}]},
    "wants_refund": {"type": "bool", "mappings": [
        {"type": "from_intent", "intent": "affirm", "value": True},
        {"type": "from_intent", "intent": "deny", "value": False},
    ]},
    "complaint": {"type": "text", "mappings": [
        {"type": "from_text", "conditions": [{"active_loop": "complaint_form", "requested_slot": "complaint"}]}]},
    "email": {"type": "text", "mappings": [
        {"type": "from_entity", "entity": "email", "not_intent": "chitchat"}]},
}
FORMS = {"complaint_form": {"required_slots": ["order_id", "complaint"]}}


def entity(name: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"entity": name, "start": 0, "end": 1, "value": value, "extractor": "RegexEntityExtractor", **extra}


def filled(message: Message, values: dict[str, Any] | None = None, slots: dict[str, Any] | None = None,
           forms: dict[str, Any] | None = None, **turn: Any) -> dict[str, Any]:
    """What the message sets: slot name -> value, in event order."""
    slot_events = extract_slots(SLOTS if slots is None else slots, FORMS if forms is None else forms,
                                values or {}, message, **turn)
    return {event["name"]: event["value"] for event in slot_events}


def test_events_are_rasa_slot_events_in_domain_order() -> None:
    slot_events = SlotFiller(SLOTS, FORMS).extract({}, Message("affirm", [entity("order_id", "4471")]), timestamp=7.5)
    assert slot_events == [
        {"event": "slot", "timestamp": 7.5, "name": "order_id", "value": "4471"},
        {"event": "slot", "timestamp": 7.5, "name": "order_ids", "value": ["4471"]},
        {"event": "slot", "timestamp": 7.5, "name": "wants_refund", "value": True},
    ]


def test_a_slot_takes_the_last_value_of_its_entity_a_list_slot_takes_them_all() -> None:
    message = Message("track", [entity("order_id", "4471"), entity("order_id", "NW-33120")])
    assert filled(message) == {"order_id": "NW-33120", "order_ids": ["4471", "NW-33120"]}


def test_a_value_the_slot_already_holds_sets_nothing() -> None:
    message = Message("track", [entity("order_id", "4471")])
    assert filled(message, {"order_id": "4471", "order_ids": ["4471"]}) == {}
    assert filled(message, {"order_id": "4471", "order_ids": ["4471"]}, emit_unchanged=True) == {
        "order_id": "4471", "order_ids": ["4471"]}  # what Rasa itself emits
    assert filled(message, {"order_id": "1000"}) == {"order_id": "4471", "order_ids": ["4471"]}


def test_from_intent_sets_its_value_only_for_its_intent() -> None:
    assert filled(Message("affirm")) == {"wants_refund": True}
    assert filled(Message("deny")) == {"wants_refund": False}
    assert filled(Message("greet")) == {}


def test_not_intent_keeps_a_mapping_from_that_intent() -> None:
    assert filled(Message("chitchat", [entity("email", "anna@example.com")])) == {}
    assert filled(Message("inform", [entity("email", "anna@example.com")])) == {"email": "anna@example.com"}


def test_from_text_with_conditions_fills_only_the_requested_slot_of_the_active_form() -> None:
    message = Message("inform", text="the zip broke after a day")
    assert filled(message, active_loop="complaint_form", requested_slot="complaint") == {
        "complaint": "the zip broke after a day"}
    assert filled(message, active_loop="complaint_form", requested_slot="order_id") == {}
    assert filled(message) == {}  # no form active
    # the requested slot is read from the slots when not passed
    assert filled(message, {"requested_slot": "complaint"}, active_loop="complaint_form") == {
        "complaint": "the zip broke after a day"}


def test_from_text_without_conditions_fills_on_every_message_as_in_rasa() -> None:
    slots = {"note": {"type": "text", "mappings": [{"type": "from_text"}]}}
    assert filled(Message("greet", text="hi"), slots=slots) == {"note": "hi"}
    assert filled(Message("greet", text="hi"), slots=slots, forms={"f": {"required_slots": ["other"]}},
                  active_loop="f", requested_slot="other") == {"note": "hi"}


def test_a_condition_without_a_form_holds_only_while_no_form_is_active() -> None:
    slots = {"topic": {"type": "text", "mappings": [
        {"type": "from_entity", "entity": "topic", "conditions": [{"active_loop": None}]}]}}
    message = Message("inform", [entity("topic", "returns")])
    assert filled(message, slots=slots) == {"topic": "returns"}
    assert filled(message, slots=slots, active_loop="complaint_form", requested_slot="complaint") == {}


def test_a_rejected_form_does_not_fill_the_slot_it_asked_for() -> None:
    message = Message("inform", text="no idea")
    assert filled(message, active_loop="complaint_form", requested_slot="complaint", loop_rejected=True) == {}


def test_the_first_mapping_with_a_value_wins() -> None:
    slots = {"size": {"type": "text", "mappings": [
        {"type": "from_entity", "entity": "size"}, {"type": "from_intent", "intent": "inform", "value": "M"}]}}
    assert filled(Message("inform", [entity("size", "XL")]), slots=slots) == {"size": "XL"}
    assert filled(Message("inform"), slots=slots) == {"size": "M"}


def test_in_a_form_a_shared_entity_mapping_fills_only_the_requested_slot() -> None:
    date_mapping = {"type": "from_entity", "entity": "date"}
    slots = {
        "ordered_on": {"type": "text", "mappings": [dict(date_mapping)]},
        "delivered_on": {"type": "text", "mappings": [dict(date_mapping)]},
        "order_id": {"type": "text", "mappings": [{"type": "from_entity", "entity": "order_id"}]},
        "last_date": {"type": "text", "mappings": [dict(date_mapping)]},  # not one of the form's slots
    }
    forms = {"delivery_form": {"required_slots": ["ordered_on", "delivered_on", "order_id"]}}
    message = Message("inform", [entity("date", "2026-11-23"), entity("order_id", "4471")])
    assert filled(message, slots=slots, forms=forms, active_loop="delivery_form", requested_slot="delivered_on") == {
        "delivered_on": "2026-11-23", "order_id": "4471", "last_date": "2026-11-23"}
    assert filled(message, slots=slots, forms=forms) == {  # no form active: every mapping applies
        "ordered_on": "2026-11-23", "delivered_on": "2026-11-23", "order_id": "4471", "last_date": "2026-11-23"}


def test_a_forms_ignored_intents_block_mappings_while_it_runs() -> None:
    forms = {"complaint_form": {"required_slots": ["order_id", "complaint"], "ignored_intents": ["chitchat"]}}
    message = Message("chitchat", [entity("order_id", "4471")])
    assert filled(message, forms=forms, active_loop="complaint_form", requested_slot="order_id") == {}
    assert filled(message, forms=forms) == {"order_id": "4471", "order_ids": ["4471"]}


def test_role_and_group_must_match_the_entitys() -> None:
    slots = {
        "from_city": {"type": "text", "mappings": [{"type": "from_entity", "entity": "city", "role": "departure"}]},
        "any_city": {"type": "text", "mappings": [{"type": "from_entity", "entity": "city"}]},
    }
    message = Message("inform", [entity("city", "Oslo", role="departure"), entity("city", "Bergen", role="arrival")])
    assert filled(message, slots=slots) == {"from_city": "Oslo"}  # a mapping without a role takes no role's entity
    assert filled(Message("inform", [entity("city", "Aarhus")]), slots=slots) == {"any_city": "Aarhus"}


def test_from_trigger_intent_fills_when_its_form_starts() -> None:
    slots = {"reason": {"type": "text", "mappings": [{"type": "from_trigger_intent", "intent": "request_refund",
                                                      "value": "refund", "conditions": [{"active_loop": "f"}]}]}}
    forms = {"f": {"required_slots": ["reason"]}, "g": {"required_slots": []}}
    message = Message("request_refund")
    assert filled(message, slots=slots, forms=forms) == {}  # before the form is active
    assert filled(message, slots=slots, forms=forms, active_loop="f") == {"reason": "refund"}  # the activation pass
    assert filled(message, slots=slots, forms=forms, active_loop="g") == {}  # another form
    assert filled(Message("greet"), slots=slots, forms=forms, active_loop="f") == {}


def test_mappings_the_domain_cannot_serve_are_skipped() -> None:
    filler = SlotFiller(SLOTS, FORMS, entities=["email"], intents=["affirm", "inform"])
    message = Message("deny", [entity("order_id", "4471"), entity("email", "anna@example.com")])
    assert {e["name"]: e["value"] for e in filler.extract({}, message)} == {"email": "anna@example.com"}


def test_events_hold_values_as_rasas_tracker_stores_them() -> None:
    slots = {
        "colour": {"type": "categorical", "values": ["Navy", "Forest Green"],
                   "mappings": [{"type": "from_entity", "entity": "colour"}]},
        "quantity": {"type": "float", "max_value": 100, "mappings": [{"type": "from_entity", "entity": "quantity"}]},
    }
    message = Message("inform", [entity("colour", "forest green"), entity("quantity", "3")])
    assert filled(message, slots=slots) == {"colour": "Forest Green", "quantity": "3"}  # Rasa keeps a float raw
    assert filled(Message("inform", [entity("colour", "teal")]), slots=slots) == {"colour": "teal"}
    assert filled(message, {"colour": "Forest Green", "quantity": "3"}, slots=slots) == {}


def test_events_played_on_the_tracker_leave_the_slots_rasa_would() -> None:
    values = initial_slots(SLOTS, FORMS)
    tracker = Tracker("c1", values)
    for event in SlotFiller(SLOTS, FORMS).extract(tracker.slots, Message("affirm", [entity("order_id", "4471")])):
        tracker.apply(event)
    assert tracker.slots["order_id"] == "4471" and tracker.slots["wants_refund"] is True
    assert tracker.slots["order_ids"] == ["4471"]


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), ("yes", True), (" Yes ", True), ("true", True), ("1", True), (1, True), (1.0, True),
    (False, False), ("no", False), ("FALSE", False), ("0", False), (0, False), ("2", False),
])
def test_bool_from_any_reads_what_rasa_reads(value: Any, expected: bool) -> None:
    assert bool_from_any(value) is expected


def test_coercion_by_slot_type() -> None:
    assert coerce_slot_value({"type": "bool"}, "yes") is True
    assert coerce_slot_value({"type": "bool"}, "maybe") == "maybe"  # kept: it cannot be a truth value
    assert coerce_slot_value({"type": "float", "min_value": 0, "max_value": 10}, "3.5") == 3.5
    assert coerce_slot_value({"type": "float"}, "42") == 42.0  # min/max only scale features in Rasa: not capped
    assert coerce_slot_value({"type": "float"}, "three") == "three"
    assert coerce_slot_value({"type": "categorical", "values": ["Navy", "navy blue"]}, "NAVY") == "Navy"
    assert coerce_slot_value({"type": "categorical", "values": ["Navy"]}, "teal") == "teal"
    assert coerce_slot_value({"type": "list"}, "4471") == ["4471"]
    assert coerce_slot_value({"type": "text"}, 3) == 3
    assert stored_value({"type": "float"}, "3") == "3"


def test_validity_by_slot_type() -> None:
    assert is_valid_slot_value({"type": "float"}, "3.5") and not is_valid_slot_value({"type": "float"}, "three")
    assert is_valid_slot_value({"type": "bool"}, "no") and not is_valid_slot_value({"type": "bool"}, "maybe")
    colour = {"type": "categorical", "values": ["Navy", 42]}
    assert is_valid_slot_value(colour, "navy") and is_valid_slot_value(colour, 42)
    assert not is_valid_slot_value(colour, "teal")
    assert all(is_valid_slot_value({"type": kind}, None) for kind in ("float", "bool", "categorical", "text"))


def test_initial_slots_include_rasas_own() -> None:
    slots: dict[str, dict[str, Any]] = {"country": {"type": "text", "initial_value": "NO", "mappings": []},
                                        "city": {"type": "text"}}
    assert initial_slots(slots) == {"country": "NO", "city": None, "session_started_metadata": None}
    assert initial_slots(slots, FORMS) == {"country": "NO", "city": None, "requested_slot": None,
                                           "session_started_metadata": None}


def test_message_from_rasa_parse_data() -> None:
    parse_data = {"intent": {"name": "track", "confidence": 0.9}, "entities": [entity("order_id", "1")],
                  "text": "order 1"}
    assert Message.from_parse_data(parse_data) == Message("track", [entity("order_id", "1")], "order 1")
    assert Message.from_parse_data({"intent": {}, "entities": [], "text": None}) == Message(None, [], None)


@pytest.mark.parametrize("slots", [
    {"s": {"type": "number"}},
    {"s": {"type": "text", "mappings": [{"type": "from_entity"}]}},
    {"s": {"type": "text", "mappings": [{"type": "from_intent", "intent": "affirm"}]}},
    {"s": {"type": "text", "mappings": [{"type": "from_slot"}]}},
    {"s": {"type": "float", "min_value": 5, "max_value": 1}},
])
def test_a_domain_rasa_would_refuse_is_refused(slots: dict[str, Any]) -> None:
    with pytest.raises(InvalidSlotConfig):
        SlotFiller(slots)
