"""One conversation as Rasa's tracker sees it: events in order, and the state they leave (slots, active form…).

Rasa builds ``DialogueStateTracker`` from a conversation's events and sends an action server its
``current_state(EventVerbosity.ALL)``; rasa-sdk's ``Tracker.from_dict`` reads that back. This is the same state,
kept by playing the events forward with Rasa's rules (``Event.apply_to`` in ``rasa/shared/core/events.py``), so
a conversation rebuilt from its stored events is the tracker it was.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

from bot.rasa.events import APPLIED

log = logging.getLogger(__name__)

REQUESTED_SLOT = "requested_slot"


def empty_message() -> dict[str, Any]:
    """Rasa's ``latest_message`` before the customer has said anything."""
    return {"intent": {}, "entities": [], "text": None, "message_id": None, "metadata": {}}


@dataclass
class Tracker:
    """A conversation's Rasa events and the state they leave; ``initial_slots`` come from the domain."""

    sender_id: str
    initial_slots: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(init=False)
    latest_message: dict[str, Any] = field(init=False, default_factory=empty_message)
    latest_input_channel: str | None = field(init=False, default=None)
    latest_action: dict[str, Any] | None = field(init=False, default=None)
    followup_action: str | None = field(init=False, default=None)
    paused: bool = field(init=False, default=False)
    active_loop: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.slots = dict(self.initial_slots)
        stored, self.events = self.events, []
        for event in stored:
            self.apply(event)

    @property
    def active_loop_name(self) -> str | None:
        name = self.active_loop.get("name")
        return name if isinstance(name, str) else None

    @property
    def latest_action_name(self) -> str | None:
        return self.latest_action.get("action_name") if self.latest_action else None

    def apply(self, event: dict[str, Any]) -> bool:
        """Add one event and update the state as Rasa does; False (and nothing changes) for an unknown type."""
        kind = event.get("event")
        if kind not in APPLIED:
            if kind in ("reminder", "cancel_reminder"):
                log.warning("skipping %r: Helpline does not schedule Rasa reminders", kind)
            else:
                log.warning("skipping an event Helpline does not know: %r", kind)
            return False
        self.events.append(event)
        if kind in ("rewind", "undo"):  # Rasa: reset, then replay what the reverts leave
            self._reset()
            for kept in applied_events(self.events):
                self._play(kept)
        else:
            self._play(event)
        return True

    def _play(self, event: dict[str, Any]) -> None:
        """What one event does to the state (``Event.apply_to``); the events list is left alone."""
        kind = event.get("event")
        if kind == "user":
            self.latest_message = copy.deepcopy(event.get("parse_data") or empty_message())
            self.latest_message.setdefault("text", event.get("text"))
            self.latest_message.setdefault("message_id", event.get("message_id"))
            self.latest_input_channel = event.get("input_channel")
            self.followup_action = None
        elif kind == "slot":
            self._set_slot(event.get("name"), event.get("value"))
        elif kind == "action":
            self.latest_action = {"action_name": event.get("name")}
            self.followup_action = None
            if self.active_loop_name is not None and event.get("name") == self.active_loop_name:
                self.active_loop.update(rejected=False, is_interrupted=False)  # the form ran again: validate anew
        elif kind == "active_loop":
            self._change_loop(event.get("name"))
        elif kind == "action_execution_rejected":
            if self.active_loop_name is not None and event.get("name") == self.active_loop_name:
                self.active_loop["rejected"] = True
        elif kind == "loop_interrupted":
            if self.active_loop:
                self.active_loop["is_interrupted"] = bool(event.get("is_interrupted"))
        elif kind == "followup":
            self.followup_action = event.get("name")
        elif kind in ("pause", "resume"):
            self.paused = kind == "pause"
        elif kind == "reset_slots":
            self.slots = dict(self.initial_slots)
        elif kind == "entities":
            self._add_entities(event.get("entities"))
        elif kind == "restart":
            self._reset()
            self.followup_action = "action_session_start"  # Rasa opens a new session next
        elif kind == "session_started":
            self._reset()
        # bot, user_featurization, agent, export and reminders change no state Rasa sends

    def current_state(self) -> dict[str, Any]:
        """What Rasa sends an action server as ``tracker``: ``current_state(EventVerbosity.ALL)``."""
        return {
            "sender_id": self.sender_id,
            "slots": dict(self.slots),
            "latest_message": copy.deepcopy(self.latest_message),
            "latest_event_time": self.events[-1].get("timestamp") if self.events else None,
            "followup_action": self.followup_action,
            "paused": self.paused,
            "events": copy.deepcopy(self.events),
            "latest_input_channel": self.latest_input_channel,
            "active_loop": copy.deepcopy(self.active_loop),
            "latest_action": dict(self.latest_action) if self.latest_action else None,
            "latest_action_name": self.latest_action_name,
        }

    def _set_slot(self, name: Any, value: Any) -> None:
        if name in self.slots:
            self.slots[name] = value
        else:  # Rasa keeps the event and logs the unknown slot
            log.warning("an action set slot %r, which the domain does not declare", name)

    def _add_entities(self, entities: Any) -> None:
        """``entities``: more entities for the customer's latest message (only right after it, as in Rasa)."""
        if self.latest_action_name != "action_listen" or not isinstance(entities, list):
            return
        known = self.latest_message.setdefault("entities", [])
        known.extend(entity for entity in entities if entity not in known)

    def _change_loop(self, name: Any) -> None:
        if isinstance(name, str) and name:
            self.active_loop = {"name": name, "is_interrupted": False, "rejected": False,
                                "trigger_message": copy.deepcopy(self.latest_message)}
        else:
            self.active_loop = {}

    def _reset(self) -> None:
        """A restart or a new session: Rasa's ``DialogueStateTracker._reset`` (the events stay)."""
        self.slots = dict(self.initial_slots)
        self.latest_message = empty_message()
        self.latest_action = None
        self.followup_action = None
        self.paused = False
        self.active_loop = {}


def applied_events(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events still in force (``DialogueStateTracker.applied_events``): a restart or a new session clears
    what came before, ``undo`` takes back the last action and what followed it, ``rewind`` the customer's last
    message and the listen before it."""
    kept: list[dict[str, Any]] = []
    for event in stored:
        kind = event.get("event")
        if kind in ("restart", "session_started"):
            kept = []
        elif kind == "undo":
            _drop_back_to(kept, "action")
        elif kind == "rewind":
            _drop_back_to(kept, "user")
            _drop_back_to(kept, "action")
        else:
            kept.append(event)
    return kept


def _drop_back_to(kept: list[dict[str, Any]], kind: str) -> None:
    """Remove events from the end of ``kept`` up to and including the last one of ``kind`` (none: keep all)."""
    for index in range(len(kept) - 1, -1, -1):
        if kept[index].get("event") == kind:
            del kept[index:]
            return
