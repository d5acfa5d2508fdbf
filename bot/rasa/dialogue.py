"""Running a turn's actions, and keeping the tracker as Rasa's processor would.

For each action: run it with the tracker as it stands (the action being run is not in its events yet), then
log ``action`` and what came of it, bot messages first and events after (``MessageProcessor._run_action`` and
``RemoteAction.run``). Custom actions run on the action server; responses (``utter_…``), forms and Rasa's
default actions run here, as they do in Rasa core. A ``followup`` event runs the named action next, and a form
that has all its slots runs the rule's submit actions, at most ``max_chain`` actions a turn (Rasa's circuit
breaker allows 10). A rejection (HTTP 400) logs ``action_execution_rejected`` instead of the action; any other
failure logs the action with no events, as Rasa does, and ends the chain: the engine then answers the customer
itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot.rasa import events
from bot.rasa.action_client import ActionCallFailed, ActionRejected, ActionServer, ActionServerFailed
from bot.rasa.domain import Domain
from bot.rasa.forms import FormLoop
from bot.rasa.responses import bot_messages
from bot.rasa.rules import Rules
from bot.rasa.slots import SlotFiller
from bot.rasa.tracker import REQUESTED_SLOT, Tracker

log = logging.getLogger(__name__)

MAX_CHAIN = 10


@dataclass
class ActionTurn:
    """What a turn's actions did: their messages, the events they added, and what stopped them."""

    slots_before: dict[str, Any]
    actions: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # ``bot`` events, in order
    events: list[dict[str, Any]] = field(default_factory=list)  # everything added to the tracker, to store
    failed: ActionCallFailed | None = None
    form_rejected: str | None = None  # a form that got nothing for the slot it asked for
    seconds: float = 0.0
    slots_after: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What the console shows of the turn's actions."""
        return {
            "actions": self.actions, "seconds": round(self.seconds, 4),
            "failed": None if self.failed is None else {"kind": type(self.failed).__name__, "reason": str(self.failed)},
            "form_rejected": self.form_rejected, "slots_before": self.slots_before, "slots_after": self.slots_after,
            "events": self.events,
        }


class ActionRunner:
    """Runs actions for a conversation's ``Tracker``: custom ones on ``server``, the rest as Rasa core does."""

    def __init__(self, server: ActionServer | None, domain: Domain, rules: Rules | None = None,
                 filler: SlotFiller | None = None, max_chain: int = MAX_CHAIN) -> None:
        self.server, self.domain, self.rules, self.max_chain = server, domain, rules or Rules(), max_chain
        self.responses = domain.responses
        self.forms = FormLoop(domain, filler or SlotFiller({}), self.call)

    async def run(self, tracker: Tracker, actions: list[str], turn: ActionTurn | None = None) -> ActionTurn:
        """Run ``actions`` in order (and the follow-ups they ask for), adding their events to ``tracker``."""
        started = time.perf_counter()
        turn = turn or ActionTurn(slots_before=dict(tracker.slots))
        queue = list(actions)
        while queue:
            if len(turn.actions) >= self.max_chain:
                log.warning("stopped after %d actions in one turn (next: %s)", self.max_chain, queue[0])
                break
            name = queue.pop(0)
            turn.actions.append(name)
            then = await self._run_one(tracker, name, turn)
            if then is None:
                break
            if tracker.followup_action:
                then = [tracker.followup_action]
            queue[:0] = then
        turn.seconds += time.perf_counter() - started
        turn.slots_after = dict(tracker.slots)
        return turn

    async def call(self, name: str, tracker: Tracker) -> list[dict[str, Any]]:
        """What running ``name`` for ``tracker`` gives (its bot messages, then its events), not yet logged."""
        if name in self.responses:
            return bot_messages([{"response": name}], self.responses, tracker.slots, tracker.latest_input_channel)
        if self.server is None:
            raise ActionServerFailed(name, "no action endpoint is configured")
        result = await self.server.run(name, tracker)
        slots = dict(tracker.slots)  # a response's {placeholders} are filled from the slots before the action
        return [*bot_messages(result.responses, self.responses, slots, tracker.latest_input_channel), *result.events]

    async def _run_one(self, tracker: Tracker, name: str, turn: ActionTurn) -> list[str] | None:
        """One action; the actions to run after it, or None when the chain stops here."""
        if name in self.domain.forms:
            return await self._run_form(tracker, name, turn)
        if name in DEFAULTS and name not in self.domain.actions:  # declared in the domain: the team's own
            for event in [events.action(name), *DEFAULTS[name]()]:
                self._add(tracker, turn, event)
            return []
        try:
            produced = await self.call(name, tracker)
        except ActionRejected as exc:
            log.info("%s", exc)
            self._add(tracker, turn, events.rejected(name))
            turn.failed = exc
            return None
        except ActionCallFailed as exc:
            log.error("%s", exc)
            self._add(tracker, turn, events.action(name))
            turn.failed = exc
            return None
        for event in [events.action(name), *produced]:
            self._add(tracker, turn, event)
        return []

    async def _run_form(self, tracker: Tracker, form: str, turn: ActionTurn) -> list[str] | None:
        try:
            run = await self.forms.run(tracker, form)
        except ActionRejected as exc:  # the validator refused: the form is rejected, as in Rasa
            log.info("%s", exc)
            self._add(tracker, turn, events.rejected(form))
            turn.form_rejected = form
            return None
        except ActionCallFailed as exc:
            log.error("%s", exc)
            self._add(tracker, turn, events.action(form))
            turn.failed = exc
            return None
        if run.rejected:
            for event in run.events:
                self._add(tracker, turn, event)
            turn.form_rejected = form
            return None
        for event in [events.action(form), *run.events]:
            self._add(tracker, turn, event)
        return self.rules.after_form(form) if run.done else []

    @staticmethod
    def _add(tracker: Tracker, turn: ActionTurn, event: dict[str, Any]) -> None:
        if tracker.apply(event):  # unknown events are logged by the tracker and left out
            turn.events.append(event)
            if event.get("event") == "bot":
                turn.messages.append(event)


def leave_form() -> list[dict[str, Any]]:
    """``action_deactivate_loop``: the form ends where it is."""
    return [events.active_loop(None), events.slot(REQUESTED_SLOT, None)]


# Rasa's default actions that a rule may name, run here as Rasa core runs them (the rest only log the action).
DEFAULTS = {
    "action_listen": list,
    "action_restart": lambda: [events.restart()],
    "action_deactivate_loop": leave_form,
    "action_back": list,
    "action_default_fallback": list,
}
