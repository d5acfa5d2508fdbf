"""Actions that fail the ways real ones do: refuse to run, crash, or take too long."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
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
