"""Rasa 3.x NLU training data (the ``nlu:`` section of a YAML file): intent examples with their entity
annotations, synonyms, regexes and lookup tables.

An example's annotations are parsed as Rasa's ``entities_parser`` does: ``[4471](order_id)``,
``[boots](product:shoes)``, ``[LA]{"entity": "city", "role": "to", "value": "Los Angeles"}``. The markup is
stripped from the text and each entity keeps its character offsets in the stripped text; an annotation whose
value differs from its text is a synonym too (Rasa's ``add_synonyms_from_entities``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.rasa.files import Located, where

# Rasa's ENTITY_REGEX: `[entity_text]((entity_type(:entity_synonym)?)|{entity_dict})`
ENTITY_REGEX = re.compile(
    r"\[(?P<entity_text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)|\{(?P<entity_dict>[^}]+?)\})"
)
ENTITY_DICT_KEYS = frozenset({"entity", "value", "role", "group"})


@dataclass(frozen=True)
class Entity:
    """One annotated entity: ``text[start:end]`` in the stripped text, and the value it stands for."""

    start: int
    end: int
    value: str
    entity: str
    role: str | None = None
    group: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Rasa's entity dict (``role`` and ``group`` only when set)."""
        found: dict[str, Any] = {"start": self.start, "end": self.end, "value": self.value, "entity": self.entity}
        found.update({key: value for key, value in (("role", self.role), ("group", self.group)) if value})
        return found


@dataclass(frozen=True)
class Example:
    """An intent example with its annotations stripped (``text``) and kept (``entities``)."""

    text: str
    intent: str
    entities: tuple[Entity, ...] = ()


@dataclass
class NluData:
    """What a project's NLU files hold, gathered across files in the order read."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, list[str]] = field(default_factory=dict)  # canonical value -> how customers write it
    regexes: dict[str, list[str]] = field(default_factory=dict)  # name (the entity it finds) -> patterns
    lookups: dict[str, list[str]] = field(default_factory=dict)  # name (the entity it finds) -> values
    notes: list[str] = field(default_factory=list)  # what was not carried over, with where

    def add_synonym(self, variant: str, canonical: str) -> None:
        variants = self.synonyms.setdefault(canonical, [])
        if variant != canonical and variant not in variants:
            variants.append(variant)

    def read(self, section: Any, top: Located) -> None:
        """Add the items of one file's ``nlu:`` list."""
        if not isinstance(section, list):
            raise where(section, top).error("nlu must be a list of intent, synonym, regex and lookup items")
        for item in section:
            place = where(item, top)
            kinds = [key for key in ("intent", "synonym", "regex", "lookup") if isinstance(item, dict) and key in item]
            if len(kinds) != 1:
                raise place.error("each nlu item is one of intent:, synonym:, regex: or lookup: with its examples")
            kind, name = kinds[0], str(item[kinds[0]])
            lines = _example_lines(item.get("examples"), place, f"{kind} '{name}'")
            if kind == "intent":
                for line in lines:
                    self.examples.append(parse_example(line, name, place))
                    for entity in self.examples[-1].entities:
                        written = self.examples[-1].text[entity.start:entity.end]
                        if written != entity.value:
                            self.add_synonym(written, entity.value)
                if not lines:
                    self.notes.append(f"{place.shown} line {place.line}: intent '{name}' has no examples")
            elif kind == "synonym":
                for line in lines:
                    self.add_synonym(line, name)
            else:
                values = (self.regexes if kind == "regex" else self.lookups).setdefault(name, [])
                values.extend(line for line in dict.fromkeys(lines) if line not in values)  # each once, in order


def parse_example(example: str, intent: str, place: Located) -> Example:
    """One example with its markup stripped and its entities at their offsets in the stripped text."""
    entities: list[Entity] = []
    offset = 0
    for match in ENTITY_REGEX.finditer(example):
        text = match.group("entity_text")
        attributes: dict[str, Any] = {"entity": match.group("entity"), "value": match.group("value") or text}
        if match.group("entity_dict"):
            attributes = _entity_dict(match.group("entity_dict"), text, example, place)
        start = match.start() - offset
        offset += len(match.group(0)) - len(text)
        entities.append(Entity(start, start + len(text), str(attributes["value"]), str(attributes["entity"]),
                               attributes.get("role"), attributes.get("group")))
    plain_text = ENTITY_REGEX.sub(lambda match: match.group("entity_text"), example)
    return Example(plain_text, intent, tuple(entities))


def _entity_dict(raw: str, text: str, example: str, place: Located) -> dict[str, Any]:
    try:
        attributes = json.loads(f"{{{raw}}}")
    except json.JSONDecodeError as exc:
        raise place.error(f"example {example!r}: entity annotation {{{raw}}} is not valid JSON ({exc.msg})") from exc
    if not isinstance(attributes.get("entity"), str) or set(attributes) - ENTITY_DICT_KEYS:
        raise place.error(f"example {example!r}: an entity annotation needs \"entity\" and may have only "
                          f"{', '.join(sorted(ENTITY_DICT_KEYS))}")
    return {"value": text, **attributes}


def _example_lines(examples: Any, place: Located, what: str) -> list[str]:
    """The examples of an item: Rasa's ``- example`` lines of a block, or a list of ``text:`` mappings."""
    if examples is None:
        return []
    if isinstance(examples, list):
        texts = [item.get("text") if isinstance(item, dict) else None for item in examples]
        if not all(isinstance(text, str) for text in texts):
            raise place.error(f"{what}: each listed example needs a text")
        return [str(text).strip() for text in texts]
    if not isinstance(examples, str):
        raise place.error(f"{what}: examples must be a block of '- example' lines")
    lines = []
    for raw in examples.splitlines():
        if not raw.strip():
            continue
        if not raw.startswith("-"):
            raise place.error(f"{what}: example line {raw.strip()!r} does not start with '- '")
        lines.append(raw[1:].strip())
    return lines
