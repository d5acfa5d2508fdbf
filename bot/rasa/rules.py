"""A Rasa project's rules as the lookups a turn needs: which actions answer an intent, which form it starts,
what runs when a form is done.

Three rule shapes carry over (Rasa's RulePolicy runs them the same way every time):

- ``- intent: X`` then ``- action: …`` steps: the actions for X;
- ``- intent: X``, ``- action: F``, ``- active_loop: F``: X starts form F (actions before it run first);
- ``condition: - active_loop: F`` with ``- action: F``, ``- active_loop: null`` (and ``slot_was_set:
  requested_slot: null``) then ``- action: …``: what runs once F has its slots.

Anything else (a rule on slot values, several user turns, end-to-end text, checkpoints) is kept in ``notes``
for the import report. Every action a rule names must be one the domain declares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.rasa.domain import Domain
from bot.rasa.files import Located, RasaFileError, read_mapping, shown_name, where


class InvalidRules(RasaFileError):
    """A rule Helpline cannot run; ``str(e)`` reads ``data/rules.yml line 9: rule 'x': …``."""


@dataclass(frozen=True)
class Rules:
    """The rules of a project, as lookups; ``notes`` lists the rules not carried over, with where they are."""

    intent_actions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    intent_forms: dict[str, str] = field(default_factory=dict)
    form_submits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path, domain: Domain, root: Path | None = None) -> Rules:
        """Read a ``rules.yml``; an action the domain does not declare is an error at its line."""
        shown = shown_name(path, root if root is not None else Path(path).parent)
        data = read_mapping(path, shown)
        rules = data.get("rules") or []
        if not isinstance(rules, list):
            raise InvalidRules(shown, data.line, "rules must be a list")
        return cls.parse(rules, domain, data)

    @classmethod
    def parse(cls, rules: Iterable[Any], domain: Domain, top: Located) -> Rules:
        """Rules from the entries of one or more ``rules:`` lists (a file's top mapping as ``top``, for errors)."""
        builder = _Builder(domain)
        # conversation-start rules last: one is carried over only where no ordinary rule has the intent
        for rule in sorted(rules, key=lambda rule: isinstance(rule, dict) and bool(rule.get("conversation_start"))):
            builder.add(where(rule, top), rule)
        if builder.errors:
            first = builder.errors[0]
            first.others = tuple(builder.errors[1:])
            raise first
        return cls(builder.actions, builder.forms, builder.submits, tuple(builder.notes))

    def actions_for(self, intent: str) -> list[str]:
        """The actions a rule runs for ``intent`` (before its form, when it starts one); empty when no rule."""
        return list(self.intent_actions.get(intent, ()))

    def form_for(self, intent: str) -> str | None:
        """The form ``intent`` starts, if a rule says so."""
        return self.intent_forms.get(intent)

    def after_form(self, form: str) -> list[str]:
        """The actions that run once ``form`` has all its slots."""
        return list(self.form_submits.get(form, ()))


class _Builder:
    """Sorts rules into the three shapes, collecting errors and notes as it goes."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.actions: dict[str, tuple[str, ...]] = {}
        self.forms: dict[str, str] = {}
        self.submits: dict[str, tuple[str, ...]] = {}
        self.first: dict[tuple[str, str], str] = {}  # (kind, key) -> the rule that set it, for contradictions
        self.errors: list[InvalidRules] = []
        self.notes: list[str] = []

    def fail(self, place: Located, reason: str) -> None:
        self.errors.append(InvalidRules(place.shown, place.line, reason))

    def note(self, place: Located, name: str, reason: str) -> None:
        self.notes.append(f"{place.shown} line {place.line}: rule '{name}' {reason}")

    def add(self, place: Located, rule: Any) -> None:
        if not isinstance(rule, dict) or not isinstance(rule.get("steps"), list):
            self.fail(place, "each rule needs a name (rule:) and a list of steps")
            return
        name = str(rule.get("rule", "?"))
        steps = [step if isinstance(step, dict) else {} for step in rule["steps"]]
        self._check_names(place, name, [*steps, *(rule.get("condition") or [])])
        loop = _condition_loop(rule.get("condition"))
        if loop is not None:
            self._submission(place, name, loop, steps)
        elif rule.get("condition"):
            self.note(place, name, "has a condition on slot values: not carried over (Helpline has no such rules)")
        else:
            self._intent_rule(place, name, steps, bool(rule.get("conversation_start")))

    def _check_names(self, place: Located, name: str, steps: list[Any]) -> None:
        for step in steps:
            if not isinstance(step, dict):
                continue
            action, loop = step.get("action"), step.get("active_loop")
            if action is not None and not self.domain.is_action(str(action)):
                self.fail(where(step, place), f"rule '{name}' runs action '{action}', which the domain does not "
                          "declare (list it under actions, or add a response of that name)")
            if loop is not None and loop not in self.domain.forms:
                self.fail(where(step, place), f"rule '{name}': active_loop '{loop}' is not a form of the domain")

    def _intent_rule(self, place: Located, name: str, steps: list[dict[str, Any]], at_start: bool) -> None:
        intents = _intents(steps[0]) if steps else []
        rest = [step for step in steps[1:] if "slot_was_set" not in step]  # an action's own slot events
        form = None
        if len(rest) >= 2 and set(rest[-1]) == {"active_loop"} and set(rest[-2]) == {"action"} \
                and rest[-1]["active_loop"] == rest[-2]["action"]:
            form, rest = str(rest[-2]["action"]), rest[:-2]
        actions = [str(step["action"]) for step in rest if set(step) == {"action"}]
        if not intents or len(actions) != len(rest) or not (actions or form):
            self.note(place, name, "is not one intent followed by actions or a form: not carried over")
            return
        if at_start:
            if any(("actions", intent) in self.first for intent in intents):
                self.note(place, name, "applies at conversation start only: not carried over")
                return
            self.note(place, name, "applies at conversation start only: carried over for every turn")
        for intent in intents:
            self._set(place, name, "actions", intent, tuple(actions), self.actions)
            if form:
                self._set(place, name, "form", intent, form, self.forms)

    def _submission(self, place: Located, name: str, loop: str, steps: list[dict[str, Any]]) -> None:
        shape = [step for step in steps if not _clears_requested_slot(step)]
        if (len(shape) < 3 or shape[0] != {"action": loop} or shape[1] != {"active_loop": None}
                or not all(set(step) == {"action"} for step in shape[2:])):
            self.note(place, name, f"runs while form '{loop}' is active but is not its submission: not carried over")
            return
        self._set(place, name, "submit", loop, tuple(str(step["action"]) for step in shape[2:]), self.submits)

    def _set(self, place: Located, name: str, kind: str, key: str, value: Any, table: dict[str, Any]) -> None:
        if key in table and table[key] != value:
            self.fail(place, f"rule '{name}' contradicts rule '{self.first[(kind, key)]}': "
                      f"{key} → {_show(value)}, there {_show(table[key])}")
            return
        table[key] = value
        self.first.setdefault((kind, key), name)


def _intents(step: dict[str, Any]) -> list[str]:
    """The intent(s) a first step waits for: ``intent: X`` or ``or: [- intent: X, - intent: Y]``."""
    if set(step) == {"intent"}:  # with entities: a rule for some values only, which is not carried over
        return [str(step["intent"])]
    if set(step) == {"or"} and isinstance(step["or"], list):
        found = [str(item["intent"]) for item in step["or"] if isinstance(item, dict) and set(item) == {"intent"}]
        return found if len(found) == len(step["or"]) else []
    return []


def _condition_loop(condition: Any) -> str | None:
    """The form of a ``condition: - active_loop: F`` (alone); None for any other condition."""
    if isinstance(condition, list) and len(condition) == 1 and isinstance(condition[0], dict) \
            and set(condition[0]) == {"active_loop"} and condition[0]["active_loop"]:
        return str(condition[0]["active_loop"])
    return None


def _clears_requested_slot(step: dict[str, Any]) -> bool:
    """``- slot_was_set: - requested_slot: null``: the form's own last event, not a condition to match."""
    events = step.get("slot_was_set")
    if set(step) != {"slot_was_set"} or not isinstance(events, list):
        return False
    return all(isinstance(event, dict) and event == {"requested_slot": None} for event in events)


def _show(value: Any) -> str:
    return ", ".join(value) if isinstance(value, tuple) else str(value)
