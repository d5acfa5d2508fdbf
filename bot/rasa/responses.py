"""An action's responses as bot messages, as Rasa turns them (``RemoteAction._utter_responses``).

rasa-sdk's ``dispatcher.utter_message`` sends dicts with ``text``, ``buttons``, ``image``, ``custom`` (its
``json_message``), ``attachment``, ``elements`` and ``response`` (the name of a domain response; older servers
send ``template``), plus any extra keyword, which fills the response's ``{placeholders}`` beside the slots.
A named response is rendered first, then the dict's own keys are laid over it, its buttons added to the
response's. Each result is a Rasa ``bot`` event.
"""

from __future__ import annotations

import logging
import random
import re
from typing import Any

from bot.rasa import events

log = logging.getLogger(__name__)

MESSAGE_KEYS = ("text", "buttons", "image", "custom", "attachment", "elements", "quick_replies")
_PLACEHOLDER = re.compile(r"{([^{}\n]+)}")


def fill(text: str, values: dict[str, Any]) -> str:
    """``{name}`` replaced by its value; unknown names stay as written (Rasa's templated NLG does the same)."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def render(name: str, responses: dict[str, list[dict[str, Any]]], slots: dict[str, Any],
           extra: dict[str, Any] | None = None, channel: str | None = None,
           chooser: random.Random | None = None) -> dict[str, Any] | None:
    """One variation of the domain response ``name``, filled with slots and ``extra``; None when it is missing.

    Variations whose ``condition`` (slot values) or ``channel`` does not hold are left out, those for this
    channel preferred; among the rest, one is picked at random, as Rasa does.
    """
    candidates = [v for v in responses.get(name, []) if _applies(v, slots, channel)]
    for_channel = [v for v in candidates if v.get("channel")]
    candidates = for_channel or candidates  # a variation for this channel wins over the general ones
    if not candidates:
        return None
    chosen = dict((chooser or random).choice(candidates))
    values = {**slots, **(extra or {})}
    if isinstance(chosen.get("text"), str):
        chosen["text"] = fill(chosen["text"], values)
    if isinstance(chosen.get("buttons"), list):
        chosen["buttons"] = [_fill_button(button, values) for button in chosen["buttons"]]
    chosen.pop("condition", None)
    chosen.pop("channel", None)
    return chosen


def bot_messages(sent: list[dict[str, Any]], domain_responses: dict[str, list[dict[str, Any]]],
                 slots: dict[str, Any], channel: str | None = None) -> list[dict[str, Any]]:
    """The ``bot`` events for an action's ``responses``, in order; a named response the domain lacks is skipped."""
    messages = []
    for response in sent:
        extra = dict(response)
        named, template = extra.pop("response", None), extra.pop("template", None)  # rasa-sdk sends both
        name = named or template
        draft: dict[str, Any] = {}
        if name:
            rendered = render(name, domain_responses, slots, extra, channel)
            if rendered is None:
                log.error("the action asked for response %r, which the domain does not have", name)
                continue
            draft = {**rendered, "utter_action": name}
        buttons = extra.pop("buttons", None) or []
        if buttons:
            draft["buttons"] = [*(draft.get("buttons") or []), *buttons]
        draft.update({key: value for key, value in extra.items() if value is not None or key not in draft})
        data = {key: draft.pop(key, None) for key in MESSAGE_KEYS if key != "text"}
        text = draft.pop("text", None)
        messages.append(events.bot(text, data, metadata=draft))
    return messages


def _applies(variation: dict[str, Any], slots: dict[str, Any], channel: str | None) -> bool:
    wanted = variation.get("channel")
    if wanted and wanted != channel:
        return False
    for condition in variation.get("condition") or []:
        if condition.get("type", "slot") == "slot" and slots.get(condition.get("name")) != condition.get("value"):
            return False
    return True


def _fill_button(button: Any, values: dict[str, Any]) -> Any:
    if not isinstance(button, dict):
        return button
    return {key: fill(value, values) if isinstance(value, str) else value for key, value in button.items()}
