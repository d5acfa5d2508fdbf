"""The tracker as Rasa keeps it: reverted messages and actions, added entities, a restart's follow-up."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker as SdkTracker

from bot.rasa import events
from bot.rasa.tracker import Tracker, applied_events

SLOTS = {"order_id": None, "email": None}


def says(tracker: Tracker, text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> None:
    tracker.apply(events.action("action_listen"))
    tracker.apply(events.user(text, {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
                                     "text": text, "message_id": None, "metadata": {}}, None))


def order_then_mistake() -> Tracker:
    tracker = Tracker("c1", SLOTS)
    says(tracker, "where is 4471", "order_status")
    tracker.apply(events.slot("order_id", "4471"))
    tracker.apply(events.action("action_order_status"))
    says(tracker, "blah", "nlu_fallback")
    tracker.apply(events.slot("order_id", "9999"))  # what the misunderstood message filled
    return tracker


def test_a_rewind_takes_back_the_customer_s_last_message_and_what_it_filled() -> None:
    tracker = order_then_mistake()
    assert tracker.apply({"event": "rewind", "timestamp": 1.0})
    assert tracker.slots["order_id"] == "4471"
    assert tracker.latest_message["text"] == "where is 4471"
    assert tracker.latest_action_name == "action_order_status"
    assert tracker.events[-1]["event"] == "rewind"  # the events stay, as in Rasa


def test_an_undo_takes_back_the_last_action_and_its_events() -> None:
    tracker = Tracker("c1", SLOTS)
    says(tracker, "where is 4471", "order_status")
    tracker.apply(events.action("action_order_status"))
    tracker.apply(events.slot("email", "a@b.example"))
    tracker.apply({"event": "undo", "timestamp": 1.0})
    assert tracker.slots["email"] is None and tracker.latest_action_name == "action_listen"


def test_the_events_in_force_are_those_rasa_sdk_applies() -> None:
    tracker = order_then_mistake()
    tracker.apply({"event": "rewind", "timestamp": 1.0})
    tracker.apply(events.action("action_order_status"))
    tracker.apply({"event": "undo", "timestamp": 2.0})
    tracker.apply(events.restart())
    says(tracker, "hello", "greet")
    sdk = SdkTracker.from_dict(tracker.current_state())
    assert applied_events(tracker.events) == sdk.applied_events()
    assert [e["event"] for e in applied_events(tracker.events)] == ["action", "user"]


def test_entities_added_after_a_message_join_it_and_not_later() -> None:
    tracker = Tracker("c1", SLOTS)
    says(tracker, "my mail is a@b.example", "inform")
    found = {"entity": "email", "value": "a@b.example", "start": 11, "end": 22}
    tracker.apply({"event": "entities", "timestamp": 1.0, "entities": [found]})
    tracker.apply({"event": "entities", "timestamp": 1.0, "entities": [found]})  # already there: once
    assert tracker.latest_message["entities"] == [found]
    tracker.apply(events.action("utter_thanks"))
    tracker.apply({"event": "entities", "timestamp": 2.0, "entities": [{"entity": "x", "value": "y"}]})
    assert tracker.latest_message["entities"] == [found]


def test_a_restart_asks_for_a_new_session_next() -> None:
    tracker = order_then_mistake()
    tracker.apply(events.restart())
    assert tracker.followup_action == "action_session_start" and tracker.slots == SLOTS


def test_a_reminder_is_skipped_not_kept() -> None:
    tracker = Tracker("c1", SLOTS)
    assert not tracker.apply({"event": "reminder", "timestamp": 1.0, "intent": "EXTERNAL_x",
                              "date_time": "2026-12-07T10:00:00", "entities": None, "name": "r",
                              "kill_on_user_msg": True})
    assert tracker.events == []
