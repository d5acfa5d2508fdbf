"""The checks a Rasa domain passes when it loads, each failure naming the file and line it is about.

Rasa's own load checks the shape (slot types, mapping keys, forms as mappings); the cross-references (a slot
mapped from an entity nobody declared, a form asking for an undeclared slot) Rasa leaves to ``rasa data
validate`` or to a warning at run time. Here they fail the load: a form that can never fill its slot is a
bug the team should see before a customer does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.rasa.files import Located, RasaFileError, where

SLOT_TYPES = frozenset({"text", "bool", "categorical", "float", "list", "any"})
# each mapping type and the keys it needs (Rasa's SlotMapping.validate)
MAPPING_KEYS: dict[str, tuple[str, ...]] = {
    "from_entity": ("entity",), "from_intent": ("value",), "from_trigger_intent": ("value",),
    "from_text": (), "custom": (),
}
Fail = Callable[[Any, str], None]  # (where, reason): note one problem
DEFAULT_INTENTS = ("restart", "back", "out_of_scope", "session_start", "nlu_fallback")


class InvalidDomain(RasaFileError):
    """The domain is not one Rasa (or Helpline) can run; ``str(e)`` reads ``domain.yml line 12: …``."""


def names(items: Any) -> list[str]:
    """The names of a Rasa list of ``name`` or ``{name: properties}`` entries (intents, entities, actions)."""
    if not isinstance(items, list):
        return []
    return [str(next(iter(item))) if isinstance(item, dict) and item else str(item) for item in items]


def check_domain(data: dict[str, Any], top: Located) -> None:
    """Raise every problem of a merged domain at once (the first, with the rest as ``others``)."""
    problems: list[InvalidDomain] = []

    def fail(place: Any, reason: str) -> None:
        spot = where(place, top)
        problems.append(InvalidDomain(spot.shown, spot.line, reason))

    for key, kind in (("intents", list), ("entities", list), ("actions", list), ("e2e_actions", list),
                      ("slots", dict), ("responses", dict), ("forms", dict), ("session_config", dict)):
        if data.get(key) is not None and not isinstance(data[key], kind):
            fail(data[key], f"{key} must be a {'list' if kind is list else 'mapping'}")
            data[key] = kind()  # checked no further, so one wrong section gives one message
    _check_named_lists(data, fail)
    intents = set(names(data.get("intents"))) | set(DEFAULT_INTENTS)
    entities = set(names(data.get("entities")))
    forms = data.get("forms") or {}
    slots = data.get("slots") or {}
    for name, slot in slots.items():
        _check_slot(str(name), slot, intents, entities, set(forms), fail)
    for name, form in forms.items():
        if form is None:
            continue
        if not isinstance(form, dict):
            fail(form, f"form '{name}' must be a mapping with required_slots")
            continue
        required = form.get("required_slots", [])
        if not isinstance(required, list):
            fail(form, f"form '{name}': required_slots must be a list of slot names")
            continue
        for slot_name in required:
            if slot_name not in slots:
                fail(form, f"form '{name}' requires slot '{slot_name}', which the domain does not declare")
    for name, variations in (data.get("responses") or {}).items():
        if not isinstance(variations, list) or not all(isinstance(v, dict) for v in variations):
            fail(variations, f"response '{name}' must be a list of variations (each a mapping, e.g. with text)")
    if problems:
        first = problems[0]
        first.others = tuple(problems[1:])
        raise first


def _check_named_lists(data: dict[str, Any], fail: Fail) -> None:
    for key in ("intents", "entities", "actions"):
        seen: set[str] = set()
        for item in data.get(key) or []:
            if isinstance(item, dict):
                if len(item) != 1:
                    fail(item, f"each entry of {key} is a name or one name with its properties")
                    continue
                name, properties = next(iter(item.items()))
                if not isinstance(properties, dict):
                    # Rasa's own words for the stray ':' after a name with nothing under it
                    fail(item, f"{key[:-1]} '{name}' has a ':' but no properties under it; remove the ':'")
            elif isinstance(item, str):
                name = item
            else:
                fail(data[key], f"{key} holds {item!r}, which is not a name")
                continue
            if key == "intents" and name in seen:
                fail(item, f"intent '{name}' is declared twice")
            seen.add(str(name))


def _check_slot(name: str, slot: Any, intents: set[str], entities: set[str], forms: set[str], fail: Fail) -> None:
    if not isinstance(slot, dict):
        fail(slot, f"slot '{name}' must be a mapping with a type and mappings")
        return
    kind = slot.get("type")
    if kind not in SLOT_TYPES and not (isinstance(kind, str) and "." in kind):  # a dotted name: a custom class
        fail(slot, f"slot '{name}' has type {kind!r}; use one of {', '.join(sorted(SLOT_TYPES))}")
    if kind == "categorical" and not isinstance(slot.get("values"), list):
        fail(slot, f"categorical slot '{name}' needs a list of values")
    for bound in ("min_value", "max_value"):
        if kind == "float" and bound in slot and not isinstance(slot[bound], int | float):
            fail(slot, f"float slot '{name}': {bound} must be a number")
    mappings = slot.get("mappings")
    if not isinstance(mappings, list):
        fail(slot, f"slot '{name}' needs mappings (a list; Rasa 3 fills no slot by itself)")
        return
    for mapping in mappings:
        _check_mapping(name, mapping, slot, intents, entities, forms, fail)


def _check_mapping(name: str, mapping: Any, slot: Any, intents: set[str], entities: set[str],
                   forms: set[str], fail: Fail) -> None:
    if not isinstance(mapping, dict):
        fail(slot, f"slot '{name}': each mapping must be a mapping with a type")
        return
    kind = mapping.get("type")
    if kind not in MAPPING_KEYS:
        fail(mapping, f"slot '{name}' has a mapping of type {kind!r}; use one of {', '.join(MAPPING_KEYS)}")
        return
    for key in MAPPING_KEYS[kind]:
        if mapping.get(key) is None:
            fail(mapping, f"slot '{name}': a {kind} mapping needs '{key}'")
    entity = mapping.get("entity")
    if kind == "from_entity" and entity is not None and entity not in entities:
        fail(mapping, f"slot '{name}' maps from entity '{entity}', which the domain does not declare")
    for key in ("intent", "not_intent"):
        for intent in _as_list(mapping.get(key)):
            if intent not in intents:
                fail(mapping, f"slot '{name}' maps {key} '{intent}', which the domain does not declare")
    for condition in _as_list(mapping.get("conditions")):
        loop = condition.get("active_loop") if isinstance(condition, dict) else None
        if loop is not None and loop not in forms:
            fail(mapping, f"slot '{name}': condition active_loop '{loop}' is not a form of the domain")


def _as_list(value: Any) -> Iterable[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
