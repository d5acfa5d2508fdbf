"""A Rasa 3.x domain: loaded from ``domain.yml`` or a ``domain/`` folder, checked, and kept in Rasa's shape.

``as_dict()`` is what Rasa 3.x's ``Domain.as_dict()`` returns and sends to an action server with every call:
the domain as written (files of a folder merged as Rasa merges them), empty sections left out, intents sorted
by name, each form's slot list under ``required_slots``, and ``version`` and ``session_config`` filled in when
missing. rasa-sdk's forms read that shape (``domain["forms"][name]["required_slots"]``, the slots'
``mappings``), so it is passed on untouched. The accessors give what the bot needs to look things up.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.rasa.domain_checks import DEFAULT_INTENTS, InvalidDomain, check_domain, names
from bot.rasa.files import Located, plain, read_mapping, shown_name

__all__ = ["DEFAULT_ACTIONS", "Domain", "InvalidDomain"]

# The actions every Rasa 3.x bot has (rasa.shared.core.constants.DEFAULT_ACTION_NAMES): rules may name them.
DEFAULT_ACTIONS = (
    "action_listen", "action_restart", "action_session_start", "action_default_fallback",
    "action_deactivate_loop", "action_revert_fallback_events", "action_default_ask_affirmation",
    "action_default_ask_rephrase", "action_two_stage_fallback", "action_unlikely_intent", "action_back",
    "action_extract_slots",
)
LATEST_VERSION = "3.1"
DEFAULT_SESSION = {"session_expiration_time": 60, "carry_over_slots_to_new_session": True}
DOMAIN_KEYS = ("intents", "entities", "slots", "responses", "actions", "forms", "e2e_actions", "session_config")
NAMED_LISTS = ("intents", "entities", "actions")
MAPPINGS = ("forms", "responses", "slots")
# Slots Rasa adds to every domain's tracker: the form's next question, and the session's start metadata.
REQUESTED_SLOT = {"type": "text", "influence_conversation": False, "mappings": []}
SESSION_METADATA_SLOT = {"type": "any", "influence_conversation": False, "mappings": []}


@dataclass(frozen=True)
class Domain:
    """A checked Rasa domain; ``data`` is Rasa's ``as_dict`` of it, ``warnings`` what loading noticed."""

    data: dict[str, Any]
    warnings: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path | str, root: Path | None = None) -> Domain:
        """Read ``domain.yml`` or the domain files under ``domain/``; messages name paths from ``root``."""
        path = Path(path)
        root = Path(root) if root is not None else path.parent
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
            parts = [read_mapping(p, shown_name(p, root)) for p in files]
            parts = [part for part in parts if any(key in part for key in DOMAIN_KEYS)]  # as Rasa's is_domain_file
            if not parts:
                raise FileNotFoundError(f"{shown_name(path, root)}/ holds no domain file (YAML with intents, slots, "
                                        "responses, actions or forms)")
        elif path.is_file():
            parts = [read_mapping(path, shown_name(path, root))]
        else:
            raise FileNotFoundError(f"no Rasa domain at {path} (expected domain.yml or a domain/ folder)")
        merged, duplicates = _merge(parts)
        check_domain(merged, parts[0])
        return cls(_as_rasa_dict(plain(merged)), tuple(duplicates))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Domain:
        """A domain from a dict in domain-file shape (e.g. another domain's ``as_dict()``), checked the same way."""
        top = Located(copy.deepcopy(data))
        top.shown = "domain"
        check_domain(top, top)
        return cls(_as_rasa_dict(plain(top)))

    def as_dict(self) -> dict[str, Any]:
        """The domain as Rasa 3.x's ``Domain.as_dict()`` gives it to an action server (a copy)."""
        return copy.deepcopy(self.data)

    def to_yaml(self) -> str:
        """The domain as a ``domain.yml`` Rasa reads back (``version`` first, as Rasa writes it)."""
        data = {"version": self.data["version"], **self.data}
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)

    @property
    def intents(self) -> list[str]:
        """Every intent name, Rasa's default intents included (``restart``, ``out_of_scope``…), sorted."""
        return sorted(set(names(self.data.get("intents"))) | set(DEFAULT_INTENTS))

    @property
    def entities(self) -> list[str]:
        return sorted(names(self.data.get("entities")))

    @property
    def slots(self) -> dict[str, dict[str, Any]]:
        """Each slot's definition, with the slots Rasa adds itself (``requested_slot`` when there are forms)."""
        slots = copy.deepcopy(self.data.get("slots") or {})
        if self.forms:
            slots.setdefault("requested_slot", dict(REQUESTED_SLOT))
        slots.setdefault("session_started_metadata", dict(SESSION_METADATA_SLOT))
        return slots

    def initial_slots(self) -> dict[str, Any]:
        """Every slot's value before anything set it (``initial_value``, else None): a new tracker's slots."""
        return {name: slot.get("initial_value") for name, slot in self.slots.items()}

    @property
    def responses(self) -> dict[str, list[dict[str, Any]]]:
        return copy.deepcopy(self.data.get("responses") or {})

    @property
    def actions(self) -> list[str]:
        """The custom actions the action server runs (not the responses, forms or Rasa's defaults)."""
        return names(self.data.get("actions"))

    @property
    def forms(self) -> dict[str, list[str]]:
        """Each form's required slots, in order."""
        return {name: list((form or {}).get("required_slots") or []) for name, form in
                (self.data.get("forms") or {}).items()}

    @property
    def session_config(self) -> tuple[float, bool]:
        """(session expiration in minutes, whether slots carry over to a new session)."""
        config = {**DEFAULT_SESSION, **(self.data.get("session_config") or {})}
        return float(config["session_expiration_time"]), bool(config["carry_over_slots_to_new_session"])

    def is_action(self, name: str) -> bool:
        """Whether a rule or story may run ``name``: a custom action, a response, a form or a Rasa default."""
        responses = self.data.get("responses") or {}
        return (name in DEFAULT_ACTIONS or name in self.actions or name in self.forms or name in responses
                or any(response.startswith(f"{name}/") for response in responses))  # utter_faq: a retrieval intent's

    def response(self, name: str) -> list[dict[str, Any]] | None:
        """The variations of the response ``name``; None when the domain has none."""
        variations = (self.data.get("responses") or {}).get(name)
        return copy.deepcopy(variations) if variations is not None else None


def _merge(parts: list[Located]) -> tuple[dict[str, Any], list[str]]:
    """Rasa's ``merge_domain_dicts`` over the files in order: lists and sections joined, the first file wins."""
    combined: dict[str, Any] = dict(parts[0])
    duplicates: list[str] = []
    for part in parts[1:]:
        new = dict(part)
        if combined.get("session_config") in (None, DEFAULT_SESSION) \
                and new.get("session_config") not in (None, DEFAULT_SESSION):
            combined["session_config"] = new["session_config"]
        forms = combined.get("forms") or {}
        if isinstance(new.get("actions"), list):  # a form listed as an action elsewhere stays a form
            new["actions"] = [action for action in new["actions"] if action not in forms]
        for key in (*NAMED_LISTS, *MAPPINGS):
            old_value, new_value = combined.get(key), new.get(key)
            if not old_value or not new_value or type(old_value) is not type(new_value):
                combined[key] = old_value or new_value  # a wrong type is left for the checks to report
                continue
            if isinstance(old_value, list):
                old_items, new_items = _by_name(old_value), _by_name(new_value)
            else:
                old_items, new_items = dict(old_value), dict(new_value)
            repeated = sorted(set(old_items) & set(new_items))
            if repeated:
                duplicates.append(f"{part.shown}: {key} {', '.join(repeated)} also in an earlier file (kept the first)")
            merged = {**new_items, **old_items}
            combined[key] = list(merged.values()) if isinstance(old_value, list) else merged
        if isinstance(new.get("e2e_actions"), list):
            combined["e2e_actions"] = sorted(set(combined.get("e2e_actions") or []) | set(new["e2e_actions"]))
    return combined, duplicates


def _by_name(items: list[Any]) -> dict[str, Any]:
    return {str(next(iter(item))) if isinstance(item, dict) and item else str(item): item for item in items}


def _as_rasa_dict(data: dict[str, Any]) -> dict[str, Any]:
    """What Rasa keeps as the domain's data (``Domain._data``): cleaned, normalised, defaults filled in."""
    data = {key: value for key, value in data.items() if value not in ({}, [], None)}
    if "forms" in data:
        data["forms"] = {name: form if form is None or "required_slots" in form else {**form, "required_slots": []}
                         for name, form in data["forms"].items()}
    if "intents" in data:
        for intent in data["intents"]:
            for properties in intent.values() if isinstance(intent, dict) else ():
                for flag in ("use_entities", "ignore_entities"):
                    if flag in properties and not properties[flag]:
                        properties[flag] = []  # Rasa's _reset_intent_flags: False and None mean none
        data["intents"] = sorted(data["intents"], key=lambda item: next(iter(item)) if isinstance(item, dict) else item)
    data.setdefault("session_config", dict(DEFAULT_SESSION))
    data.setdefault("version", LATEST_VERSION)
    return data
