"""A form, run as Rasa core runs one (``FormAction`` in ``rasa/core/actions/forms.py``; see docs/rasa-protocol.md §7).

Rasa's forms live in Rasa core, not on the action server: core activates the form, extracts slot candidates,
calls the team's ``validate_<form>`` action with the tracker Rasa would build (its events after the latest
restart, then ``slot requested_slot``, then ``action <form>``, then the candidate ``slot`` events last, which is
where rasa-sdk's ``slots_to_validate()`` reads them), asks for the next empty required slot, and ends the form
when none is left (or the validator sets ``requested_slot`` to null). ``FormLoop.run`` does that for one turn and
returns the events Rasa would log after ``action <form>``, or that the form was rejected: the customer's message
gave nothing for the slot it was asked for, and the bot should answer it some other way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.rasa import events
from bot.rasa.action_client import ActionRejected
from bot.rasa.domain import Domain
from bot.rasa.slots import Message, SlotFiller
from bot.rasa.tracker import REQUESTED_SLOT, Tracker

# runs an action (a custom one on the server, or a response) for a tracker and gives the events it produced
Call = Callable[[str, Tracker], Awaitable[list[dict[str, Any]]]]


@dataclass
class FormRun:
    """One run of a form: the events to log after ``action <form>``, or ``rejected`` (then ``events`` are logged
    as they are, without the form's ``action`` event, as Rasa does)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    rejected: bool = False

    @property
    def done(self) -> bool:
        return not self.rejected and is_done(self.events)


def is_done(produced: list[dict[str, Any]]) -> bool:
    """Rasa's ``FormAction.is_done``: not after a rejection; else when the last ``requested_slot`` is null or the
    last ``active_loop`` names no form."""
    if any(e.get("event") == "action_execution_rejected" for e in produced):
        return False
    for event in reversed(produced):
        if event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT:
            return event.get("value") is None
        if event.get("event") == "active_loop":
            return event.get("name") is None
    return False


def ask_actions(form: str, slot: str) -> tuple[str, ...]:
    """Where Rasa looks for the question for ``slot``, in order."""
    return f"action_ask_{form}_{slot}", f"utter_ask_{form}_{slot}", f"action_ask_{slot}", f"utter_ask_{slot}"


class FormLoop:
    """Runs the forms of one domain; ``call`` runs the validator and ask actions."""

    def __init__(self, domain: Domain, filler: SlotFiller, call: Call) -> None:
        self.domain, self.filler, self.call = domain, filler, call
        self._actions = set(domain.actions)
        self._responses = set(domain.data.get("responses") or {})

    async def run(self, tracker: Tracker, form: str) -> FormRun:
        """Activate ``form``, or take the customer's answer to its question, and ask the next one."""
        required = self.domain.forms.get(form, [])
        activating = tracker.active_loop_name != form
        produced: list[dict[str, Any]] = []
        if activating:
            produced.append(events.active_loop(form))
            temp = _copy(tracker, produced)
            found = self.filler.extract(temp.slots, Message.from_parse_data(temp.latest_message), form, None)
            for event in found:
                temp.apply(event)
            prefilled = {slot: temp.slots.get(slot) for slot in required if temp.slots.get(slot) is not None}
            returned = await self._validate(temp, form, prefilled, active=True)
            named = {e.get("name") for e in returned if e.get("event") == "slot"}
            produced += returned + [e for e in found if e.get("name") not in named]
        else:
            interrupted = bool(tracker.active_loop.get("is_interrupted"))
            listening = tracker.latest_action_name == "action_listen"
            requested = tracker.slots.get(REQUESTED_SLOT)
            candidates = _candidates(tracker, [*required, requested]) if listening and not interrupted else {}
            try:
                returned = await self._validate(tracker, form, candidates, active=True)
            except ActionRejected:
                return FormRun([events.rejected(form)], rejected=True)
            if any(e.get("event") == "action_execution_rejected" for e in returned):
                return FormRun(returned, rejected=True)  # the validator's own rejection, logged as it came
            set_by_validator = [e for e in returned if e.get("event") == "slot" and e.get("name") != REQUESTED_SLOT]
            if listening and not interrupted and requested and not candidates and not set_by_validator:
                return FormRun([events.rejected(form)], rejected=True)  # nothing came for the slot it asked for
            produced += returned
        produced += await self._request_next_slot(tracker, form, required, produced)
        if is_done(produced):
            produced.append(events.active_loop(None))
        return FormRun(produced)

    async def _validate(self, tracker: Tracker, form: str, candidates: dict[str, Any],
                        active: bool) -> list[dict[str, Any]]:
        """``validate_<form>``'s events for ``candidates`` (the candidates themselves without a validator)."""
        validator = f"validate_{form}"
        if validator not in self._actions:
            return [events.slot(name, value) for name, value in candidates.items()] if active else []
        requested = tracker.slots.get(REQUESTED_SLOT) if tracker.active_loop_name == form else None
        sent = _after_restart(tracker, [events.slot(REQUESTED_SLOT, requested), _form_action(form),
                                        *(events.slot(name, value) for name, value in candidates.items())])
        return await self.call(validator, sent)

    async def _request_next_slot(self, tracker: Tracker, form: str, required: list[str],
                                 produced: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if is_done(produced):
            return [events.slot(REQUESTED_SLOT, None)]
        requested = tracker.slots.get(REQUESTED_SLOT) if tracker.active_loop_name == form else None
        asking = _after_restart(tracker, [events.slot(REQUESTED_SLOT, requested), _form_action(form), *produced])
        chosen = next((e.get("value") for e in produced
                       if e.get("event") == "slot" and e.get("name") == REQUESTED_SLOT), None)
        added: list[dict[str, Any]] = []
        if chosen is None:
            chosen = next((slot for slot in required if asking.slots.get(slot) is None), None)
            added.append(events.slot(REQUESTED_SLOT, chosen))
        if chosen is None:
            return added
        ask = next((name for name in ask_actions(form, chosen) if name in self._actions or name in self._responses),
                   None)
        return added + (await self.call(ask, asking) if ask else [])


def _form_action(form: str) -> dict[str, Any]:
    return events.action(form, policy=None, confidence=None)


def _copy(tracker: Tracker, more: list[dict[str, Any]]) -> Tracker:
    return Tracker(tracker.sender_id, tracker.initial_slots, [*tracker.events, *more])


def _after_restart(tracker: Tracker, more: list[dict[str, Any]]) -> Tracker:
    """A tracker of ``tracker``'s events since its latest restart, then ``more`` (what Rasa sends the validator
    and ask actions of a form)."""
    start = max((i + 1 for i, e in enumerate(tracker.events) if e.get("event") == "restart"), default=0)
    return Tracker(tracker.sender_id, tracker.initial_slots, [*tracker.events[start:], *more])


def _candidates(tracker: Tracker, wanted: list[Any]) -> dict[str, Any]:
    """The slots set since the customer's latest message, among ``wanted``; the last value of each wins."""
    found: dict[str, Any] = {}
    for event in reversed(tracker.events):
        if event.get("event") in ("user", "restart"):
            break
        if event.get("event") == "slot" and event.get("name") in wanted and event.get("name") not in found:
            found[event["name"]] = event.get("value")
    return dict(reversed(list(found.items())))
