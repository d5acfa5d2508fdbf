"""The Rasa domain: Rasa's as_dict shape, the lookups, domain/ folders merged, and the load-time checks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa_sdk.forms import FormValidationAction

from bot.rasa.domain import Domain, InvalidDomain
from bot.rasa.files import RasaFileError
from tests.bot.rasa.rasa_project import DOMAIN, line_of

TINY = """\
intents:
  - greet
  - inform:
      use_entities: false
entities:
  - city
slots:
  city:
    type: text
    mappings:
      - type: from_entity
        entity: city
forms:
  trip_form:
    required_slots: [city]
responses:
  utter_greet:
    - text: hi
actions:
  - action_book
e2e_actions: []
"""


def write(tmp_path: Path, text: str, name: str = "domain.yml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_as_dict_is_what_rasa_sends_an_action_server(tmp_path: Path) -> None:
    # Rasa 3.x's Domain.as_dict(): the data as written, empty sections dropped, intents sorted, flags reset,
    # version and session_config filled in; the slots Rasa adds itself are not in it
    assert Domain.load(write(tmp_path, TINY)).as_dict() == {
        "intents": ["greet", {"inform": {"use_entities": []}}],
        "entities": ["city"],
        "slots": {"city": {"type": "text", "mappings": [{"type": "from_entity", "entity": "city"}]}},
        "forms": {"trip_form": {"required_slots": ["city"]}},
        "responses": {"utter_greet": [{"text": "hi"}]},
        "actions": ["action_book"],
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
        "version": "3.1",
    }


def test_the_lookups(tmp_path: Path) -> None:
    domain = Domain.load(write(tmp_path, DOMAIN))
    assert domain.as_dict()["session_config"] == {"session_expiration_time": 30,
                                                  "carry_over_slots_to_new_session": False}
    assert domain.session_config == (30.0, False)
    assert {"greet", "chitchat", "return_item", "out_of_scope", "nlu_fallback", "restart"} <= set(domain.intents)
    assert domain.entities == ["city", "order_id", "product"]
    assert domain.actions == ["action_order_status", "validate_return_form"]
    assert domain.forms == {"return_form": ["order_id", "return_reason", "return_confirmed"]}
    slots = domain.slots
    assert [slots[name]["type"] for name in ("order_id", "return_confirmed", "size", "refund_amount")] == \
        ["text", "bool", "categorical", "float"]
    assert slots["requested_slot"] == {"type": "text", "influence_conversation": False, "mappings": []}
    assert slots["size"]["values"] == ["small", "large", "yes", "no"]  # YAML 1.2, as Rasa reads it: not booleans
    assert domain.initial_slots()["refund_amount"] == 0 and domain.initial_slots()["requested_slot"] is None
    for name in ("action_order_status", "utter_greet", "return_form", "action_listen", "action_deactivate_loop",
                 "action_two_stage_fallback", "action_extract_slots"):
        assert domain.is_action(name), name
    assert not domain.is_action("action_refund") and not domain.is_action("utter_nothing")
    assert domain.response("utter_ask_return_confirmed") == [
        {"text": "Shall I register the return of {order_id}?",
         "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]}]
    assert domain.response("utter_nothing") is None


def test_rasa_sdk_forms_read_the_shape(tmp_path: Path) -> None:
    class ValidateReturnForm(FormValidationAction):
        def name(self) -> str:
            return "validate_return_form"

    domain = Domain.load(write(tmp_path, DOMAIN)).as_dict()
    action = ValidateReturnForm()
    assert action.domain_slots(domain) == ["order_id", "return_reason", "return_confirmed"]
    # slots with no form condition are extracted by any form; those conditioned on return_form are not
    assert action.global_slots(domain) == ["order_id", "size", "refund_amount"]
    assert asyncio.run(action.required_slots(action.domain_slots(domain), None, None, domain)) == \
        ["order_id", "return_reason", "return_confirmed"]


def test_a_domain_folder_is_merged_as_rasa_merges_it(tmp_path: Path) -> None:
    folder = tmp_path / "domain"
    write(folder, "intents: [greet]\nresponses:\n  utter_greet:\n    - text: hello\n", "a_core.yml")
    write(folder, "intents: [bye]\nresponses:\n  utter_greet:\n    - text: other\n  utter_bye:\n    - text: bye\n"
                  "session_config:\n  session_expiration_time: 5\n  carry_over_slots_to_new_session: true\n",
          "b_more.yml")
    write(folder, "# notes, not a domain file\nsomething: else\n", "sub/c_notes.yml")
    domain = Domain.load(folder, tmp_path)
    assert domain.as_dict()["intents"] == ["bye", "greet"]
    assert domain.responses == {"utter_bye": [{"text": "bye"}], "utter_greet": [{"text": "hello"}]}  # first wins
    assert domain.session_config == (5.0, True)
    assert domain.warnings == ("domain/b_more.yml: responses utter_greet also in an earlier file (kept the first)",)


def test_a_slot_mapped_from_an_unknown_entity_names_its_line(tmp_path: Path) -> None:
    text = DOMAIN.replace("      - type: from_entity\n        entity: product", "      - type: from_entity\n"
                          "        entity: colour")
    with pytest.raises(InvalidDomain) as caught:
        Domain.load(write(tmp_path, text))
    line = line_of(text, "entity: colour") - 1
    assert str(caught.value) == f"domain.yml line {line}: slot 'size' maps from entity 'colour', which the " \
        "domain does not declare"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = DOMAIN.replace("      - return_confirmed\n", "      - return_confirmed\n      - gift_wrap\n") \
        .replace("type: categorical\n    values: [small, large, yes, no]", "type: categorical") \
        .replace("      - type: custom", "      - type: from_nowhere")
    with pytest.raises(InvalidDomain) as caught:
        Domain.load(write(tmp_path, text))
    messages = [str(caught.value), *map(str, caught.value.others)]
    assert f"domain.yml line {line_of(text, 'type: categorical')}: categorical slot 'size' needs a list of " \
        "values" in messages
    assert any("slot 'refund_amount' has a mapping of type 'from_nowhere'" in m for m in messages)
    assert f"domain.yml line {line_of(text, '    required_slots:')}: form 'return_form' requires slot " \
        "'gift_wrap', which the domain does not declare" in messages


def test_a_condition_on_an_unknown_form_and_a_stray_colon(tmp_path: Path) -> None:
    text = DOMAIN.replace("requested_slot: return_reason", "requested_slot: return_reason\n"
                          "          - active_loop: refund_form").replace("  - deny\n", "  - deny:\n")
    with pytest.raises(InvalidDomain) as caught:
        Domain.load(write(tmp_path, text))
    messages = [str(caught.value), *map(str, caught.value.others)]
    assert any("condition active_loop 'refund_form' is not a form" in m for m in messages)
    assert any("intent 'deny' has a ':' but no properties under it" in m for m in messages)


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(RasaFileError, match=r"^domain.yml line 3: mapping values are not allowed here"):
        Domain.load(write(tmp_path, "intents:\n  - greet\n  - bye: x: y\n"))


def test_a_missing_domain_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no Rasa domain"):
        Domain.load(tmp_path / "domain.yml")
    (tmp_path / "domain").mkdir()
    write(tmp_path / "domain", "nothing: here\n", "x.yml")
    with pytest.raises(FileNotFoundError, match="holds no domain file"):
        Domain.load(tmp_path / "domain", tmp_path)


def test_as_dict_loads_back_to_the_same_domain(tmp_path: Path) -> None:
    domain = Domain.load(write(tmp_path, DOMAIN))
    assert Domain.from_dict(domain.as_dict()) == domain
    assert Domain.load(write(tmp_path, domain.to_yaml(), "again.yml")).as_dict() == domain.as_dict()


def test_the_demo_shops_domain_loads() -> None:
    domain = Domain.load(Path(__file__).resolve().parents[3] / "demo" / "domain.yml")
    assert domain.forms == {"order_status_form": ["order_id"], "cancel_order_form": ["order_id"],
                            "return_form": ["order_id", "return_reason", "return_confirmed"]}
    assert domain.is_action("action_submit_return") and "requested_slot" in domain.slots
