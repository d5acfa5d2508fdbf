"""Slot filling after each customer message, as Rasa 3.x's ``action_extract_slots`` does it.

Input is the domain in Rasa's shape: ``slots`` (``{name: {"type", "mappings", "initial_value", "values",
"min_value", "max_value", "influence_conversation"}}``) and ``forms`` (``{form: {"required_slots": [...],
"ignored_intents": [...]}}``). Output is Rasa ``slot`` events, ``{"event": "slot", "timestamp", "name",
"value"}``, in domain slot order. Per slot, the first mapping that yields a value wins, checked as in
``ActionExtractSlots.run``:

1. a ``from_entity`` entity or ``from_intent`` intent the domain lacks (when given) skips the mapping;
2. the intent is one of ``intent``, or there is none and it is not in ``not_intent`` (plus the active form's
   ``ignored_intents`` unless the mapping's conditions name only other forms);
3. one of the ``conditions`` ``{active_loop, requested_slot}`` holds (``active_loop: null``: no form active),
   and none does when the form was just rejected asking for this slot; ``from_trigger_intent`` skips this;
4. while a form runs, a ``from_entity`` mapping of one of its required slots other than the requested one
   applies only if no other required slot has the very same mapping (Rasa's unique entity mapping check);
5. the value: ``from_entity`` the values of entities with that name, role and group (a list slot takes all,
   others the last); ``from_intent`` its ``value``; ``from_text`` the text; ``from_trigger_intent`` its
   ``value`` only while a form (one its conditions name, if any) is active. Rasa extracts again as a form
   starts, with the form already active: call ``extract`` with ``active_loop`` the starting form for that
   pass. ``custom`` mappings are the action server's.

Rasa has no rule that a form's required slots fill only while it runs, nor that ``from_text`` fills only the
requested slot: ``conditions`` say that, and without them a mapping fills on any message, there and here.
Where Rasa re-sets a slot to the value it holds, Helpline emits nothing unless ``emit_unchanged``. Event
values are what Rasa's tracker stores (``stored_value``); ``coerce_slot_value`` and ``is_valid_slot_value``
are Rasa's ``Slot.coerce_value`` and ``is_valid_value``, for validation.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.rasa import events

log = logging.getLogger(__name__)

REQUESTED_SLOT = "requested_slot"
SESSION_STARTED_METADATA = "session_started_metadata"
DEFAULT_SLOT_NAMES = frozenset({REQUESTED_SLOT, SESSION_STARTED_METADATA})  # Rasa's own, never mapped
SLOT_TYPES = frozenset({"text", "bool", "float", "categorical", "list", "any"})
MAPPING_TYPES = {"from_entity": "entity", "from_intent": "value", "from_trigger_intent": "value",
                 "from_text": None, "custom": None}  # type -> the key it cannot do without

Slots = Mapping[str, Mapping[str, Any]]
Forms = Mapping[str, Mapping[str, Any]]


class InvalidSlotConfig(ValueError):
    """The domain's slots cannot be used (an unknown type or mapping, a mapping missing its key, min >= max)."""


@dataclass(frozen=True)
class Message:
    """The latest customer message as NLU read it: the intent's name, the entities, the text."""

    intent: str | None
    entities: Sequence[Mapping[str, Any]] = ()
    text: str | None = None

    @classmethod
    def from_parse_data(cls, parse_data: Mapping[str, Any]) -> Message:
        """From Rasa's ``parse_data`` / ``latest_message`` (``{"intent": {"name"}, "entities", "text"}``)."""
        return cls((parse_data.get("intent") or {}).get("name"), list(parse_data.get("entities") or ()),
                   parse_data.get("text"))


def _to_list(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def bool_from_any(value: Any) -> bool:
    """Rasa's ``bool_from_any``: True/False, 1/0, "1", "true"/"false", "yes"/"no"; anything else raises."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1.0
    if isinstance(value, str):
        if value.isnumeric():
            return float(value) == 1.0
        word = value.strip().lower()
        if word in ("true", "yes", "false", "no"):
            return word in ("true", "yes")
        raise ValueError(f"cannot read {value!r} as a truth value")
    raise TypeError(f"cannot read a {type(value).__name__} as a truth value")


def _categories(slot: Mapping[str, Any]) -> list[str]:
    return [str(value) for value in slot.get("values") or () if value is not None]


def coerce_slot_value(slot: Mapping[str, Any], value: Any) -> Any:
    """``value`` as the slot's type would have it (Rasa's ``coerce_value``), or unchanged when it cannot be."""
    kind = slot.get("type", "any")
    try:
        if kind == "float":
            return float(value)
        if kind == "bool":
            return bool_from_any(value)
    except (TypeError, ValueError):
        return value
    return stored_value(slot, value)


def stored_value(slot: Mapping[str, Any], value: Any) -> Any:
    """What Rasa's tracker keeps when a slot is set: a list slot wraps one value, a categorical one takes the
    declared casing of a value matching it case-insensitively; floats and bools are kept as they came."""
    kind = slot.get("type", "any")
    if kind == "list" and value and not isinstance(value, list):
        return [value]
    if kind == "categorical" and value and isinstance(value, str):
        categories = _categories(slot)
        if value in categories:
            return value
        return next((known for known in categories if known.casefold() == value.casefold()), value)
    return value


def is_valid_slot_value(slot: Mapping[str, Any], value: Any) -> bool:
    """Rasa's ``is_valid_value``: None always; a float or bool slot what coerces; a categorical one its values."""
    if value is None:
        return True
    kind = slot.get("type", "any")
    if kind in ("float", "bool"):
        return isinstance(coerce_slot_value(slot, value), float if kind == "float" else bool)
    if kind == "categorical":
        categories = _categories(slot)
        if isinstance(value, str):
            return any(value.casefold() == known.casefold() for known in categories)
        return str(value) in categories
    return True


def initial_slots(slots: Slots, forms: Forms | None = None) -> dict[str, Any]:
    """Every slot's ``initial_value`` (None without one), plus the slots Rasa's domain adds of its own."""
    values = {name: slot.get("initial_value") for name, slot in slots.items()}
    if forms:
        values.setdefault(REQUESTED_SLOT, None)
    values.setdefault(SESSION_STARTED_METADATA, None)
    return values


def _validate(slots: Slots) -> None:
    for name, slot in slots.items():
        kind = slot.get("type", "any")
        if kind not in SLOT_TYPES:
            raise InvalidSlotConfig(f"slot {name!r}: unknown type {kind!r}; known: {sorted(SLOT_TYPES)}")
        if kind == "float" and float(slot.get("min_value", 0.0)) >= float(slot.get("max_value", 1.0)):
            raise InvalidSlotConfig(f"slot {name!r}: min_value must be smaller than max_value")
        for mapping in slot.get("mappings") or ():
            kind = mapping.get("type")
            if kind not in MAPPING_TYPES:
                raise InvalidSlotConfig(f"slot {name!r}: unknown mapping type {kind!r}")
            needed = MAPPING_TYPES[kind]
            if needed and mapping.get(needed) is None:
                raise InvalidSlotConfig(f"slot {name!r}: a {kind} mapping needs {needed!r}")


class SlotFiller:
    """A domain's slot mappings, checked once; ``extract`` gives the slot events for one message."""

    def __init__(self, slots: Slots, forms: Forms | None = None, *, entities: Collection[str] | None = None,
                 intents: Collection[str] | None = None) -> None:
        _validate(slots)
        self.slots, self.forms = slots, forms or {}
        self.entities = None if entities is None else set(entities)
        self.intents = None if intents is None else set(intents)
        self._required = {form: set(spec.get("required_slots") or ()) for form, spec in self.forms.items()}
        self._mapping_counts = {form: Counter(
            _key(mapping) for slot in required if slot in slots for mapping in slots[slot].get("mappings") or ()
            if mapping.get("type") == "from_entity") for form, required in self._required.items()}
        # mappings the domain cannot serve, found (and logged) once rather than on every message
        self._unservable = {(name, index) for name, slot in slots.items()
                            for index, mapping in enumerate(slot.get("mappings") or ())
                            if not self._valid(name, mapping)}

    def extract(self, values: Mapping[str, Any], message: Message, active_loop: str | None = None,
                requested_slot: str | None = None, *, loop_rejected: bool = False, emit_unchanged: bool = False,
                timestamp: float | None = None) -> list[dict[str, Any]]:
        """The ``slot`` events for ``message``; ``requested_slot`` defaults to ``values["requested_slot"]``."""
        requested = requested_slot if requested_slot is not None else values.get(REQUESTED_SLOT)
        turn = _Turn(message, active_loop, requested, loop_rejected)
        changes = []
        for name, slot in self.slots.items():
            if name in DEFAULT_SLOT_NAMES:
                continue
            current = values.get(name)
            for index, mapping in enumerate(slot.get("mappings") or ()):
                if (name, index) in self._unservable or not self._applies(name, mapping, turn):
                    continue
                found = _mapped_values(mapping, turn)
                if not found:
                    continue
                value = found if slot.get("type") == "list" else found[-1]
                if value is None and current is None:
                    continue  # nothing to set or to clear: the next mapping may do better
                value = stored_value(slot, value)
                if emit_unchanged or value != current:
                    changes.append((name, value))
                break
        when = time.time() if timestamp is None else timestamp  # one moment for the whole batch
        return [events.slot(name, value, when) for name, value in changes]

    def _applies(self, name: str, mapping: Mapping[str, Any], turn: _Turn) -> bool:
        kind = mapping["type"]
        return (kind != "custom" and self._intent_is_desired(mapping, turn)
                and (kind == "from_trigger_intent" or _conditions_hold(name, mapping, turn))
                and not self._fails_unique_entity_mapping(name, mapping, turn))

    def _valid(self, name: str, mapping: Mapping[str, Any]) -> bool:
        kind = mapping["type"]
        if kind == "from_entity" and self.entities is not None and mapping["entity"] not in self.entities:
            log.warning("slot %r maps the entity %r, which the domain lacks; skipping", name, mapping["entity"])
            return False
        if kind == "from_intent" and self.intents is not None:
            missing = [intent for intent in _to_list(mapping.get("intent")) if intent and intent not in self.intents]
            if missing:
                log.warning("slot %r maps the intent %r, which the domain lacks; skipping", name, missing[0])
                return False
        return True

    def _intent_is_desired(self, mapping: Mapping[str, Any], turn: _Turn) -> bool:
        intents = _to_list(mapping.get("intent"))
        not_intents = _to_list(mapping.get("not_intent"))
        loop = turn.active_loop
        conditions = mapping.get("conditions") or ()
        if loop and (not conditions or any(c.get("active_loop") == loop for c in conditions)):
            not_intents += _to_list(self.forms.get(loop, {}).get("ignored_intents"))
        return (not intents and turn.message.intent not in not_intents) or turn.message.intent in intents

    def _fails_unique_entity_mapping(self, name: str, mapping: Mapping[str, Any], turn: _Turn) -> bool:
        loop = turn.active_loop
        if mapping["type"] != "from_entity" or not loop or turn.requested_slot == name:
            return False
        return name in self._required.get(loop, set()) and self._mapping_counts[loop][_key(mapping)] != 1


@dataclass(frozen=True)
class _Turn:
    message: Message
    active_loop: str | None
    requested_slot: str | None
    loop_rejected: bool


def _key(mapping: Mapping[str, Any]) -> str:
    return json.dumps(mapping, sort_keys=True, default=str)  # how Rasa tells identical mappings apart


def _conditions_hold(name: str, mapping: Mapping[str, Any], turn: _Turn) -> bool:
    """Rasa's ``_matches_mapping_conditions``: no conditions always hold."""
    if not mapping.get("conditions"):
        return True
    if turn.loop_rejected and turn.requested_slot == name:
        return False
    for condition in mapping["conditions"]:
        loop = condition.get("active_loop")
        if loop and loop == turn.active_loop:
            wanted = condition.get("requested_slot")
            if not wanted or wanted == turn.requested_slot:
                return True
        if loop is None and turn.active_loop is None:
            return True
    return False


def _mapped_values(mapping: Mapping[str, Any], turn: _Turn) -> list[Any]:
    """``extract_slot_value_from_predefined_mapping``: the candidate values, the last of which a slot takes."""
    kind = mapping["type"]
    if kind == "from_entity":
        return [entity.get("value") for entity in turn.message.entities
                if entity.get("entity") == mapping["entity"] and entity.get("role") == mapping.get("role")
                and entity.get("group") == mapping.get("group")]
    if kind == "from_intent":
        return [mapping["value"]]
    if kind == "from_trigger_intent":
        loops = [condition.get("active_loop") for condition in mapping.get("conditions") or ()]
        active = turn.active_loop is not None and (not loops or turn.active_loop in loops)
        return [mapping["value"]] if active else []
    return [turn.message.text]  # from_text


def extract_slots(slots: Slots, forms: Forms | None, values: Mapping[str, Any], message: Message,
                  active_loop: str | None = None, requested_slot: str | None = None, *,
                  loop_rejected: bool = False, emit_unchanged: bool = False,
                  timestamp: float | None = None) -> list[dict[str, Any]]:
    """One-off ``SlotFiller(slots, forms).extract(...)``; keep a ``SlotFiller`` to check the domain once."""
    return SlotFiller(slots, forms).extract(values, message, active_loop, requested_slot,
                                            loop_rejected=loop_rejected, emit_unchanged=emit_unchanged,
                                            timestamp=timestamp)
