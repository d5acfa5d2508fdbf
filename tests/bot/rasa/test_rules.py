"""Rules: intent → actions, form activation and submission, what is left as a note, and the errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rasa.domain import Domain
from bot.rasa.rules import InvalidRules, Rules
from tests.bot.rasa.rasa_project import DOMAIN, RULES, line_of


@pytest.fixture
def domain(tmp_path: Path) -> Domain:
    (tmp_path / "domain.yml").write_text(DOMAIN)
    return Domain.load(tmp_path / "domain.yml")


def load(tmp_path: Path, text: str, domain: Domain) -> Rules:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "rules.yml").write_text(text)
    return Rules.load(tmp_path / "data" / "rules.yml", domain, tmp_path)


def test_the_three_shapes(tmp_path: Path, domain: Domain) -> None:
    rules = load(tmp_path, RULES, domain)
    assert rules.actions_for("greet") == ["utter_greet"]
    assert rules.actions_for("order_status") == ["action_order_status"]
    assert rules.form_for("return_item") == "return_form" and rules.actions_for("return_item") == []
    assert rules.after_form("return_form") == ["utter_return_done"]
    assert rules.actions_for("deny") == [] and rules.form_for("greet") is None and rules.after_form("x") == []


def test_rules_not_carried_over_are_noted_with_their_line(tmp_path: Path, domain: Domain) -> None:
    rules = load(tmp_path, RULES, domain)
    assert rules.notes == (
        f"data/rules.yml line {line_of(RULES, '- rule: deny after')}: rule 'deny after confirming' has a condition "
        "on slot values: not carried over (Helpline has no such rules)",
        f"data/rules.yml line {line_of(RULES, '- rule: say hi')}: rule 'say hi first' applies at conversation "
        "start only: not carried over",
    )


def test_or_steps_actions_before_a_form_and_a_lone_start_rule(tmp_path: Path, domain: Domain) -> None:
    text = """\
rules:
- rule: hello or bye
  steps:
  - or:
    - intent: greet
    - intent: goodbye
  - action: utter_greet
  - action: action_restart
- rule: return with a word first
  steps:
  - intent: return_item
  - action: utter_default
  - action: return_form
  - active_loop: return_form
- rule: affirm at start
  conversation_start: true
  steps:
  - intent: affirm
  - action: utter_greet
- rule: two turns
  steps:
  - intent: affirm
  - action: utter_greet
  - intent: deny
  - action: utter_default
"""
    rules = load(tmp_path, text, domain)
    assert rules.actions_for("greet") == rules.actions_for("goodbye") == ["utter_greet", "action_restart"]
    assert rules.actions_for("return_item") == ["utter_default"] and rules.form_for("return_item") == "return_form"
    assert rules.actions_for("affirm") == ["utter_greet"]
    assert [note.split(": ", 1)[1] for note in rules.notes] == [
        "rule 'two turns' is not one intent followed by actions or a form: not carried over",
        "rule 'affirm at start' applies at conversation start only: carried over for every turn",
    ]


def test_an_action_the_domain_lacks_is_an_error_at_its_line(tmp_path: Path, domain: Domain) -> None:
    text = RULES.replace("  - action: action_order_status", "  - action: action_track_parcel")
    with pytest.raises(InvalidRules) as caught:
        load(tmp_path, text, domain)
    assert str(caught.value) == (
        f"data/rules.yml line {line_of(text, 'action_track_parcel')}: rule 'order status' runs action "
        "'action_track_parcel', which the domain does not declare (list it under actions, or add a response of "
        "that name)")


def test_an_unknown_form_and_a_contradiction(tmp_path: Path, domain: Domain) -> None:
    text = RULES + """\
- rule: greet differently
  steps:
  - intent: greet
  - action: utter_default
- rule: a form that is not there
  steps:
  - intent: deny
  - action: utter_default
  - active_loop: refund_form
"""
    with pytest.raises(InvalidRules) as caught:
        load(tmp_path, text, domain)
    messages = [str(caught.value), *map(str, caught.value.others)]
    assert f"data/rules.yml line {line_of(text, 'active_loop: refund_form')}: rule 'a form that is not there': " \
        "active_loop 'refund_form' is not a form of the domain" in messages
    assert f"data/rules.yml line {line_of(text, '- rule: greet differently')}: rule 'greet differently' " \
        "contradicts rule 'greet': greet → utter_default, there utter_greet" in messages
