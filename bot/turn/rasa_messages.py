"""Rasa's messages at the edges of a turn: a pressed button's payload coming in, an action's bot events going
out as replies."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from typing import Any

from bot.turn.outcome import BotReply
from bot.turn.policy import Route

PAYLOAD = re.compile(r"^/(?P<intent>[\w.-]+)(?P<entities>\{.*\})?$", re.DOTALL)


def payload(text: str, intents: list[str]) -> tuple[str, list[dict[str, Any]]] | None:
    """A button payload, ``/intent`` or ``/intent{"slot": "value"}``: its intent and entities (None otherwise)."""
    match = PAYLOAD.match(text.strip())
    if match is None or match["intent"] not in intents:
        return None
    try:
        given = json.loads(match["entities"]) if match["entities"] else {}
    except json.JSONDecodeError:
        return None
    if not isinstance(given, dict):
        return None
    return match["intent"], [{"entity": name, "value": value, "start": 0, "end": len(text), "extractor": "payload"}
                             for name, value in given.items()]


def said_in(base: BotReply, events: list[dict[str, Any]], action: str | None = None) -> list[BotReply]:
    """The bot messages among ``events``, as replies naming the action that said each (``action`` until one
    is logged; what follows a customer message before any rule runs is slot extraction's)."""
    said = []
    for event in events:
        kind = event.get("event")
        if kind in ("action", "action_execution_rejected"):
            action = event.get("name")
        elif kind == "user":
            action = "action_extract_slots"
        elif kind == "bot":
            said.append(from_bot(base, event, action))
    return said


def from_bot(base: BotReply, event: dict[str, Any], action: str | None) -> BotReply:
    """One bot event as a reply: its text, buttons, image and custom payload."""
    data = event.get("data") or {}
    buttons = [b for b in data.get("buttons") or [] if isinstance(b, dict) and (b.get("title") or b.get("payload"))]
    image = data.get("image") if isinstance(data.get("image"), str) else None
    return replace(base, reply_id=uuid.uuid4().hex, text=event.get("text") or "", route=Route.ACTION, action=action,
                   buttons=buttons, image=image, custom=data.get("custom"), faq_id=None, score=None, suggestions=[])
