"""Entities in a customer message, as a Rasa 3.x pipeline of RegexEntityExtractor, built-ins and
EntitySynonymMapper finds them, so custom actions read the ``entities`` Rasa would have given them.

The configuration is the ``entities.json`` a Rasa project import writes (every key may be left out)::

    {
      "regexes":  {"zipcode": ["\\\\b\\\\d{5}\\\\b"]},          # entity name -> regular expressions
      "lookups":  {"colour": ["navy", "forest green"]},   # entity name -> values (Rasa's lookup tables)
      "synonyms": {"navy": ["dark blue", "marine"]},      # canonical value -> the ways customers write it
      "examples": [{"text": "a dark blue tent",           # annotated NLU examples
                    "entities": [{"start": 2, "end": 11, "value": "navy", "entity": "colour"}]}],
      "entities": ["zipcode"],                            # the domain's entity names (see below)
      "case_sensitive": false,                            # RegexEntityExtractor's option (default false)
      "use_word_boundaries": true,                        # lookups match whole words (false for zh/ja/th)
      "builtins": ["order_id", "email", "date"]           # which built-ins run (default all; [] for none)
    }

Rasa's rules, kept: a regex or lookup table names its entity, and with ``examples`` present only the names an
example annotates are extracted, as Rasa's ``use_only_entities`` does (a domain entity no example annotates
gets no regex extraction there either); a hand-written config without examples may restrict the names with
``entities``, or extract every pattern's. A lookup table becomes ``(\\bv1\\b|\\bv2\\b…)`` of escaped values in
their order; every match of every pattern is an entity whose value is the matched text, and patterns
overlapping one another all report, as in Rasa. Synonyms map an entity's value, compared lower-cased, to its
canonical value, learnt from ``synonyms`` and from examples whose annotated value differs from their text; a
mapped entity gets ``"processors": ["EntitySynonymMapper"]``. Rasa's regex extractor sets no
``confidence_entity``, role or group, so neither does this one. Built-ins (``bot.rasa.builtin_entities``) are
Helpline's addition; one that overlaps the project's own entity gives way to it. Entities come back sorted by
position, each span once.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.rasa.builtin_entities import BUILTINS, extract_builtins

log = logging.getLogger(__name__)

REGEX_EXTRACTOR = "RegexEntityExtractor"
SYNONYM_MAPPER = "EntitySynonymMapper"
CONFIG_KEYS = frozenset({"regexes", "lookups", "synonyms", "examples", "entities", "case_sensitive",
                         "use_word_boundaries", "builtins"})


class InvalidEntityConfig(ValueError):
    """The entity configuration cannot be used (an unknown key, a broken regex, a lookup that is not a list)."""


@dataclass(frozen=True)
class _Pattern:
    entity: str
    regex: re.Pattern[str]


def lookup_regex(values: Iterable[str], word_boundaries: bool = True) -> str:
    """A lookup table as Rasa's ``pattern_utils._generate_lookup_regex`` writes it."""
    escaped = [re.escape(value) for value in values]
    if not word_boundaries:
        return "(" + "|".join(escaped) + ")"
    return "(\\b" + "\\b|\\b".join(escaped) + "\\b)"


def learn_synonyms(synonyms: Mapping[str, Iterable[str]],
                   examples: Iterable[Mapping[str, Any]] = ()) -> dict[str, str]:
    """Lower-cased variant -> canonical value, as EntitySynonymMapper trains it."""
    table: dict[str, str] = {}

    def add(variant: str, canonical: str) -> None:
        if variant != canonical:
            previous = table.get(variant.lower())
            if previous is not None and previous != canonical:
                log.warning("synonym %r maps to %r and %r; keeping %r", variant, previous, canonical, canonical)
            table[variant.lower()] = canonical
        # the canonical value itself, so "NAVY" is also reported as "navy"
        table.setdefault(canonical.lower(), canonical)

    for canonical, variants in synonyms.items():
        for variant in variants:
            add(str(variant), str(canonical))
    for example in examples:
        text = str(example.get("text", ""))
        for entity in example.get("entities") or ():
            if entity.get("value") is not None:
                add(text[entity["start"]:entity["end"]], str(entity["value"]))
    return table


class EntityExtractor:
    """Finds a message's entities; build it once (it compiles every pattern) and call ``extract`` per message."""

    def __init__(self, regexes: Mapping[str, Iterable[str]] | None = None,
                 lookups: Mapping[str, Iterable[str]] | None = None,
                 synonyms: Mapping[str, Iterable[str]] | None = None,
                 examples: Iterable[Mapping[str, Any]] = (),
                 only: Collection[str] | None = None, *, case_sensitive: bool = False,
                 use_word_boundaries: bool = True, builtins: Collection[str] = BUILTINS) -> None:
        unknown = set(builtins) - set(BUILTINS)
        if unknown:
            raise InvalidEntityConfig(f"unknown built-in entities {sorted(unknown)}; known: {list(BUILTINS)}")
        examples = list(examples)
        known = None if only is None else set(only)  # the entity names patterns may extract; None: all
        flags = 0 if case_sensitive else re.IGNORECASE
        self.patterns = [
            _Pattern(name, _compile(name, pattern, flags))
            for name, pattern in [*_regex_sources(regexes), *_lookup_sources(lookups, use_word_boundaries)]
            if known is None or name in known
        ]
        self.synonyms = learn_synonyms(synonyms or {}, examples)
        self.builtins = tuple(kind for kind in BUILTINS if kind in builtins)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EntityExtractor:
        """An extractor for the ``entities.json`` shape in the module docstring."""
        unknown = set(config) - CONFIG_KEYS
        if unknown:
            raise InvalidEntityConfig(f"unknown keys {sorted(unknown)} in the entity config; known: "
                                      f"{sorted(CONFIG_KEYS)}")
        examples = config.get("examples") or ()
        only = config.get("entities")
        if "examples" in config:  # Rasa's use_only_entities: the entity types the NLU data annotates
            only = {e["entity"] for example in examples for e in example.get("entities") or () if "entity" in e}
        return cls(config.get("regexes"), config.get("lookups"), config.get("synonyms"), examples, only,
                   case_sensitive=bool(config.get("case_sensitive", False)),
                   use_word_boundaries=bool(config.get("use_word_boundaries", True)),
                   builtins=config.get("builtins", BUILTINS))

    @classmethod
    def from_file(cls, path: str | Path) -> EntityExtractor:
        """An extractor for an ``entities.json`` file."""
        config = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            raise InvalidEntityConfig(f"{path}: the entity config must be a JSON object")
        return cls.from_config(config)

    def extract(self, text: str, reference_date: date | None = None) -> list[dict[str, Any]]:
        """Rasa entity dicts for ``text``; relative dates count from ``reference_date`` (default today)."""
        found: dict[tuple[str, int, int], dict[str, Any]] = {}
        for pattern in self.patterns:
            for match in pattern.regex.finditer(text):
                if match.end() > match.start():  # an empty match names nothing a slot could hold
                    key = (pattern.entity, match.start(), match.end())
                    found.setdefault(key, {"entity": pattern.entity, "start": match.start(), "end": match.end(),
                                           "value": match[0], "extractor": REGEX_EXTRACTOR})
        entities = list(found.values())
        if self.builtins:
            taken = [(entity["start"], entity["end"]) for entity in entities]
            entities += extract_builtins(text, reference_date or date.today(), self.builtins, taken)
        for entity in entities:
            canonical = self.synonyms.get(str(entity["value"]).lower())
            if canonical is not None:
                entity["value"] = canonical
                entity.setdefault("processors", []).append(SYNONYM_MAPPER)
        return sorted(entities, key=lambda e: (e["start"], e["end"], e["entity"]))


def _regex_sources(regexes: Mapping[str, Iterable[str]] | None) -> list[tuple[str, str]]:
    return [(name, pattern) for name, patterns in (regexes or {}).items() for pattern in _as_list(name, patterns)]


def _lookup_sources(lookups: Mapping[str, Iterable[str]] | None, word_boundaries: bool) -> list[tuple[str, str]]:
    sources = []
    for name, values in (lookups or {}).items():
        elements = [str(value) for value in _as_list(name, values) if str(value)]
        if elements:  # an empty table would be "(\b\b)", matching nothing but the gaps between words
            sources.append((name, lookup_regex(elements, word_boundaries)))
    return sources


def _as_list(name: str, values: Iterable[str]) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidEntityConfig(f"entity {name!r}: expected a list of patterns or values, got {values!r}")
    return list(values)


def _compile(name: str, pattern: str, flags: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as error:
        raise InvalidEntityConfig(f"entity {name!r}: bad regular expression {pattern!r}: {error}") from error
