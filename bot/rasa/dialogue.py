"""Running a turn's custom actions on the action server, and keeping the tracker as Rasa's processor would.

For each action: call it with the tracker as it stands (the action being run is not in its events yet), then
log ``action`` and what came back, bot messages first and events after (``MessageProcessor._run_action`` and
``RemoteAction.run``). A ``followup`` event runs the named action next, at most ``max_chain`` actions a turn
(Rasa's circuit breaker allows 10). A rejection (HTTP 400) logs ``action_execution_rejected`` instead of the
action; any other failure logs the action with no events, as Rasa does, and ends the chain: the engine then
answers the customer itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot.rasa import events
from bot.rasa.action_client import ActionCallFailed, ActionRejected, ActionServer
from bot.rasa.responses import bot_messages
from bot.rasa.tracker import Tracker

log = logging.getLogger(__name__)

MAX_CHAIN = 10


@dataclass
class ActionTurn:
    """What a turn's actions did: their messages, the events they added, and the failure that stopped them."""

    slots_before: dict[str, Any]
    actions: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # ``bot`` events, in order
    events: list[dict[str, Any]] = field(default_factory=list)  # everything added to the tracker, to store
    failed: ActionCallFailed | None = None
    seconds: float = 0.0
    slots_after: dict[str, Any] = field(default_factory=dict)


class ActionRunner:
    """Runs actions for a conversation's ``Tracker`` on one action server."""

    def __init__(self, server: ActionServer, responses: dict[str, list[dict[str, Any]]],
                 max_chain: int = MAX_CHAIN) -> None:
        self.server, self.responses, self.max_chain = server, responses, max_chain

    async def run(self, tracker: Tracker, actions: list[str]) -> ActionTurn:
        """Run ``actions`` in order (and the follow-ups they ask for), adding their events to ``tracker``."""
        started = time.perf_counter()
        turn = ActionTurn(slots_before=dict(tracker.slots))
        queue = list(actions)
        while queue:
            if len(turn.actions) >= self.max_chain:
                log.warning("stopped after %d actions in one turn (next: %s)", self.max_chain, queue[0])
                break
            name = queue.pop(0)
            turn.actions.append(name)
            if not await self._run_one(tracker, name, turn):
                break
            if tracker.followup_action:
                queue.insert(0, tracker.followup_action)
        turn.seconds = time.perf_counter() - started
        turn.slots_after = dict(tracker.slots)
        return turn

    async def _run_one(self, tracker: Tracker, name: str, turn: ActionTurn) -> bool:
        """One action; False when it failed (the chain stops)."""
        slots = dict(tracker.slots)  # a response's {placeholders} are filled from the slots before the action
        try:
            result = await self.server.run(name, tracker)
        except ActionRejected as exc:
            log.info("%s", exc)
            self._add(tracker, turn, events.rejected(name))
            turn.failed = exc
            return False
        except ActionCallFailed as exc:
            log.error("%s", exc)
            self._add(tracker, turn, events.action(name))
            turn.failed = exc
            return False
        self._add(tracker, turn, events.action(name))
        for message in bot_messages(result.responses, self.responses, slots, tracker.latest_input_channel):
            self._add(tracker, turn, message)
            turn.messages.append(message)
        for event in result.events:
            if event.get("event") == "bot":  # an action's own BotUttered: a message like any other
                turn.messages.append(event)
            self._add(tracker, turn, event)
        return True

    @staticmethod
    def _add(tracker: Tracker, turn: ActionTurn, event: dict[str, Any]) -> None:
        if tracker.apply(event):  # unknown events are logged by the tracker and left out
            turn.events.append(event)
