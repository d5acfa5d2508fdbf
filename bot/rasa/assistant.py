"""A company's Rasa side, loaded from its data dir: domain, rules, entity extractor, slot filler, action endpoint.

``helpline setup`` copies a company's ``domain.yml``, ``rules.yml``, ``endpoints.yml`` and ``entities.json``
into ``<data dir>/rasa/``; a company without a domain has no Rasa side (``load`` gives None) and its bot
answers from the FAQ, small talk and handoff alone. What a customer's message adds to the tracker before
any action runs (the ``user`` event, then the slots its mappings fill, as Rasa's ``action_extract_slots``
does) is ``heard``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.rasa import events
from bot.rasa.action_client import ActionCallFailed, ActionServer
from bot.rasa.domain import Domain
from bot.rasa.endpoints import ActionEndpoint, load_action_endpoint
from bot.rasa.entities import EntityExtractor
from bot.rasa.responses import bot_messages
from bot.rasa.rules import Rules
from bot.rasa.slots import Message, SlotFiller
from bot.rasa.tracker import REQUESTED_SLOT, Tracker
from bot.settings import Settings

log = logging.getLogger(__name__)

FILES = ("domain.yml", "rules.yml", "endpoints.yml", "entities.json")  # what setup copies, in <data dir>/rasa


@dataclass(frozen=True)
class RasaAssistant:
    """Everything a turn needs of the company's Rasa project."""

    domain: Domain
    rules: Rules
    extractor: EntityExtractor
    slots: SlotFiller
    endpoint: ActionEndpoint | None  # None: no action server configured (rules naming actions are refused)

    @classmethod
    def load(cls, folder: Path, env: Mapping[str, str], url: str | None = None,
             timeout_s: float | None = None) -> RasaAssistant | None:
        """The project in ``folder`` (None without a ``domain.yml``); ``url`` and ``timeout_s`` override the
        endpoint's (``HELPLINE_ACTION_ENDPOINT_URL``, ``HELPLINE_ACTION_TIMEOUT_S``)."""
        if not (folder / "domain.yml").is_file():
            return None
        domain = Domain.load(folder / "domain.yml", folder)
        rules = Rules.load(folder / "rules.yml", domain, folder) if (folder / "rules.yml").is_file() else Rules()
        entities = folder / "entities.json"
        extractor = EntityExtractor.from_file(entities) if entities.is_file() else EntityExtractor()
        endpoint = load_action_endpoint(folder / "endpoints.yml", env) if (folder / "endpoints.yml").is_file() \
            else None
        if url is not None:
            endpoint = dataclasses.replace(endpoint, url=url) if endpoint else ActionEndpoint(url)
        if timeout_s is not None and endpoint is not None:
            endpoint = dataclasses.replace(endpoint, timeout_s=timeout_s)
        filler = SlotFiller(domain.data.get("slots") or {}, domain.data.get("forms") or {},
                            entities=domain.entities, intents=domain.intents)
        return cls(domain, rules, extractor, filler, endpoint)

    def tracker(self, conversation_id: str, stored: list[dict[str, Any]]) -> Tracker:
        """The conversation's tracker, from its stored events."""
        return Tracker(conversation_id, self.domain.initial_slots(), stored)

    def heard(self, tracker: Tracker, text: str, message_id: str | None, intent: str, confidence: float,
              ranking: list[tuple[str, float]], entities: list[dict[str, Any]] | None = None,
              started: list[dict[str, Any]] | None = None, metadata: dict[str, Any] | None = None,
              input_channel: str = "helpline") -> list[dict[str, Any]]:
        """Add a customer message to ``tracker``: its ``user`` event (intent, entities), then the slots it fills.
        ``entities`` replaces the extractor's (a button's ``/intent{...}`` payload names them). Returns the
        events added, to be stored with the turn; a new session's start comes first, as Rasa logs it (``started``
        when it was already run, by the team's own ``action_session_start``). ``metadata`` is the message's, as a
        Rasa channel passes it (in ``parse_data`` and on the event); ``input_channel`` names the channel."""
        if started is None:
            started = self.session_start(tracker)
        for event in started:
            tracker.apply(event)
        parse_data = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": self.extractor.extract(text) if entities is None else entities,
            "text": text,
            "message_id": message_id,
            "metadata": metadata or {},
            "intent_ranking": [{"name": name, "confidence": p} for name, p in ranking],
        }
        added = [events.user(text, parse_data, message_id, input_channel, metadata=metadata)]
        tracker.apply(added[0])
        requested = tracker.slots.get("requested_slot")
        filled = self.slots.extract(tracker.slots, Message.from_parse_data(parse_data), tracker.active_loop_name,
                                    requested if isinstance(requested, str) else None,
                                    loop_rejected=bool(tracker.active_loop.get("rejected")), emit_unchanged=True)
        for event in filled:
            tracker.apply(event)
        return [*started, *added, *filled]

    def session_start(self, tracker: Tracker, now: float | None = None) -> list[dict[str, Any]]:
        """The events that open a session, when one starts with this message: a new conversation, or one idle
        longer than the domain's ``session_expiration_time`` (its slots carried over when the domain says so),
        as Rasa's ``action_session_start`` logs them. Empty while the session lasts."""
        minutes, carry_over = self.domain.session_config
        now = time.time() if now is None else now
        if tracker.events:
            last = tracker.events[-1].get("timestamp")
            if minutes <= 0 or not isinstance(last, (int, float)) or now - last < minutes * 60:
                return []
        carried = [events.slot(name, value) for name, value in tracker.slots.items()
                   if carry_over and tracker.events and value is not None and name != REQUESTED_SLOT]
        return [events.action("action_session_start"), events.session_started(), *carried,
                events.action("action_listen")]

    def overrides(self, default_action: str) -> bool:
        """Whether the domain declares one of Rasa's default actions as its own, to run on the action server
        instead (Rasa's ``action_for_name_or_text``), e.g. an ``action_session_start`` that sets slots."""
        return default_action in self.domain.actions

    async def start_session_on_server(self, tracker: Tracker) -> list[dict[str, Any]]:
        """The events of the team's own ``action_session_start`` (logged as the action, then its events, as Rasa
        does). When it fails the session opens as Rasa's default would, so the message is still answered."""
        server = self.action_server()
        if server is None:
            return self.session_start(tracker)
        try:
            result = await server.run("action_session_start", tracker)
        except ActionCallFailed as exc:
            log.error("the action server's action_session_start failed, so the default ran: %s", exc)
            return self.session_start(tracker)
        finally:
            await server.aclose()
        said = bot_messages(result.responses, self.domain.responses, dict(tracker.slots), tracker.latest_input_channel)
        return [events.action("action_session_start"), *said, *result.events]

    def action_server(self) -> ActionServer | None:
        """A client for the company's action server (None when none is configured); close it after use."""
        return None if self.endpoint is None else ActionServer(self.endpoint, self.domain.as_dict())

    async def missing_actions(self) -> list[str]:
        """The domain's custom actions the action server does not offer (its ``GET /actions``)."""
        server = self.action_server()
        wanted = self.domain.actions
        if server is None:
            return list(wanted)
        try:
            offered = set(await server.list_actions())
        finally:
            await server.aclose()
        return [name for name in wanted if name not in offered]

    async def report_missing_actions(self) -> None:
        """Warn, as a server starts, about every action a customer could ask for that would fail."""
        try:
            missing = await self.missing_actions()
        except ActionCallFailed as exc:
            log.warning("cannot list the action server's actions: %s", exc)
            return
        if missing:
            where = self.endpoint.url if self.endpoint else "no action endpoint is configured"
            log.warning("the domain names actions the action server (%s) does not offer: %s", where,
                        ", ".join(missing))



def load_assistant(settings: Settings) -> RasaAssistant | None:
    """The company's Rasa side from the data dir, with the action endpoint's settings over endpoints.yml."""
    return RasaAssistant.load(settings.rasa_dir, settings.environment(), settings.action_endpoint_url,
                              settings.action_timeout_s)
