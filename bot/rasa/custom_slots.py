"""The action server's part of slot filling: ``custom`` slot mappings and ``action_validate_slot_mappings``.

After the mappings Helpline fills itself (``bot.rasa.slots``), Rasa's ``action_extract_slots`` runs, on every
customer message, each custom action that a ``custom`` mapping names (once, in domain slot order), then the
team's ``action_validate_slot_mappings`` when the domain declares it, each with the tracker as it stands. Only
their ``slot`` and ``bot`` events count; a failed call is logged and gives nothing (Rasa logs a warning too),
so a broken extraction action never stops a message from being answered.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.rasa.action_client import ActionCallFailed, ActionServer
from bot.rasa.domain import Domain
from bot.rasa.responses import bot_messages
from bot.rasa.tracker import Tracker

log = logging.getLogger(__name__)

VALIDATE_SLOT_MAPPINGS = "action_validate_slot_mappings"
KEPT = ("slot", "bot")


def extraction_actions(domain: Domain) -> list[str]:
    """The custom actions that fill slots, in the order Rasa runs them."""
    names: list[str] = []
    for slot in domain.slots.values():
        for mapping in slot.get("mappings") or ():
            action = mapping.get("action") if mapping.get("type") == "custom" else None
            if isinstance(action, str) and action in domain.actions and action not in names:
                names.append(action)
    if VALIDATE_SLOT_MAPPINGS in domain.actions:
        names.append(VALIDATE_SLOT_MAPPINGS)
    return names


async def extract_on_server(server: ActionServer, domain: Domain, tracker: Tracker,
                            actions: list[str]) -> list[dict[str, Any]]:
    """Run ``actions`` for the customer's latest message; the events they added to ``tracker``."""
    added: list[dict[str, Any]] = []
    for name in actions:
        try:
            result = await server.run(name, tracker)
        except ActionCallFailed as exc:
            log.warning("slot extraction by %s gave nothing: %s", name, exc)
            continue
        said = bot_messages(result.responses, domain.responses, dict(tracker.slots), tracker.latest_input_channel)
        for event in [*said, *result.events]:
            if event.get("event") not in KEPT:
                log.warning("%s may only set slots and say things while extracting, not %r", name,
                            event.get("event"))
            elif tracker.apply(event):
                added.append(event)
    return added
