"""Actions that fail the ways real ones do (refuse to run, crash, take too long), and ones that use the less
common parts of Rasa: a team's own session start, a fallback that takes the message back."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ConversationPaused,
    FollowupAction,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection


class ActionReject(Action):
    def name(self) -> str:
        return "action_reject"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        raise ActionExecutionRejection("action_reject", "not while the shop is closed")


class ActionCrash(Action):
    def name(self) -> str:
        return "action_crash"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        raise RuntimeError("the order database is down")


class ActionSlow(Action):
    def name(self) -> str:
        return "action_slow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        await asyncio.sleep(5)
        dispatcher.utter_message(text="finally")
        return []


class ActionThenStatus(Action):
    """Hands over to the order-status action, as a ``FollowupAction``."""

    def name(self) -> str:
        return "action_then_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        dispatcher.utter_message(text="Let me look that up.")
        return [FollowupAction("action_order_status")]


class ActionForever(Action):
    """Asks for itself again: only the chain's bound stops it."""

    def name(self) -> str:
        return "action_forever"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        return [FollowupAction("action_forever")]


class ActionStrangeEvent(Action):
    """Sends back an event type Helpline does not know, beside one it does."""

    def name(self) -> str:
        return "action_strange_event"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        return [{"event": "teleported", "timestamp": None}, SlotSet("order_id", "3302")]


class ActionPause(Action):
    """Hands the conversation to a person, as a Rasa bot does with ``ConversationPaused``."""

    def name(self) -> str:
        return "action_pause"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        dispatcher.utter_message(text="Let me get a colleague for this.")
        return [ConversationPaused()]


class ValidateProbeForm(Action):
    """A form validator that says what it was sent: the tracker's last events, its latest action, the slot the form
    asked for and the active loop, so the tests can check Helpline sends what Rasa would."""

    def name(self) -> str:
        return "validate_probe_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        tail = [[e.get("event"), e.get("name"), e.get("value")] for e in tracker.events[-3:]]
        dispatcher.utter_message(json_message={
            "tail": tail, "latest_action": tracker.latest_action_name, "active_loop": tracker.active_loop_name,
            "requested": tracker.get_slot("requested_slot"), "slots_to_validate": tracker.slots_to_validate()})
        return []


class ActionGuessShoeSize(Action):
    """A ``custom`` slot mapping's action: fills shoe_size from a European size in the message."""

    def name(self) -> str:
        return "action_guess_shoe_size"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        sizes = [word for word in (tracker.latest_message.get("text") or "").split() if word in ("41", "42", "43")]
        return [SlotSet("shoe_size", sizes[-1])] if sizes else []


class ActionSessionStart(Action):
    """A team's own ``action_session_start``: greets, and sets a slot every session starts with."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        dispatcher.utter_message(text="Welcome to Northwind!")
        return [SessionStarted(), SlotSet("customer_tier", "gold"), ActionExecuted("action_listen")]


class ActionDidYouMean(Action):
    """A two-stage-fallback style action: offers NLU's best guess and takes the unclear message back."""

    def name(self) -> str:
        return "action_did_you_mean"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list[Any]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        guess = ranking[1]["name"] if len(ranking) > 1 else "nothing"
        dispatcher.utter_message(text=f"Did you mean {guess}?", buttons=[{"title": "Yes", "payload": f"/{guess}"}])
        return [UserUtteranceReverted()]
