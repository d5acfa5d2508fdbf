"""Rasa's conversation events as the JSON an action server reads and writes (Rasa 3.x ``Event.as_dict``).

Each builder returns the dict Rasa itself would put in a tracker's ``events``; the action server answers with
events in the same shape, which ``bot.rasa.tracker.Tracker.apply`` plays back. Field names and defaults follow
``rasa/shared/core/events.py``.
"""

from __future__ import annotations

import time
from typing import Any

# What an action server may send back that the tracker understands; anything else is logged and skipped.
APPLIED = frozenset({
    "user", "slot", "reset_slots", "followup", "restart", "session_started", "active_loop",
    "action_execution_rejected", "pause", "resume", "bot", "user_featurization", "action", "loop_interrupted",
    "rewind", "undo", "entities", "agent", "export",
})


def _event(kind: str, timestamp: float | None, metadata: dict[str, Any] | None = None,
           **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"event": kind, "timestamp": time.time() if timestamp is None else timestamp}
    if metadata:
        event["metadata"] = metadata
    event.update(fields)
    return event


def user(text: str, parse_data: dict[str, Any], message_id: str | None, input_channel: str = "helpline",
         timestamp: float | None = None, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A customer message with what NLU made of it (``parse_data``: intent, entities, text, ranking…)."""
    return _event("user", timestamp, text=text, parse_data=parse_data, input_channel=input_channel,
                  message_id=message_id, metadata=metadata or {})


def bot(text: str | None, data: dict[str, Any] | None = None, timestamp: float | None = None,
        metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bot message; ``data`` holds ``buttons``, ``image``, ``custom``… (every key present, None when unused)."""
    filled = {key: None for key in ("elements", "quick_replies", "buttons", "attachment", "image", "custom")}
    filled.update(data or {})
    return _event("bot", timestamp, metadata=metadata or {}, text=text, data=filled)


def action(name: str, timestamp: float | None = None, policy: str | None = None,
           confidence: float | None = 1.0) -> dict[str, Any]:
    """An action ran (recorded before its own events, as Rasa does)."""
    return _event("action", timestamp, name=name, policy=policy, confidence=confidence, action_text=None,
                  hide_rule_turn=False)


def slot(name: str, value: Any, timestamp: float | None = None) -> dict[str, Any]:
    return _event("slot", timestamp, name=name, value=value)


def active_loop(name: str | None, timestamp: float | None = None) -> dict[str, Any]:
    """A form (loop) starts (its name) or ends (None)."""
    return _event("active_loop", timestamp, name=name)


def session_started(timestamp: float | None = None) -> dict[str, Any]:
    return _event("session_started", timestamp)


def rejected(name: str, timestamp: float | None = None) -> dict[str, Any]:
    """The action server refused to run ``name`` here (its HTTP 400)."""
    return _event("action_execution_rejected", timestamp, name=name, policy=None, confidence=None)


def restart(timestamp: float | None = None) -> dict[str, Any]:
    """The conversation starts over: slots, form and latest message are reset (the events stay)."""
    return _event("restart", timestamp)


def loop_interrupted(is_interrupted: bool, timestamp: float | None = None) -> dict[str, Any]:
    """The active form is set aside for another answer (True), then taken up again."""
    return _event("loop_interrupted", timestamp, is_interrupted=is_interrupted)


def resume(timestamp: float | None = None) -> dict[str, Any]:
    """The bot answers again after a ``pause`` (the conversation came back to it)."""
    return _event("resume", timestamp)
