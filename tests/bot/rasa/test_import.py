"""Importing a Rasa project: the company folder it writes, the report, and the errors that stop it."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from bot.rasa.domain import Domain
from bot.rasa.endpoints import load_action_endpoint
from bot.rasa.entities import EntityExtractor
from bot.rasa.files import RasaFileError
from bot.rasa.importer import default_out, import_project
from bot.rasa.rules import InvalidRules, Rules
from retrieval.faq import load_faq
from tests.bot.rasa.rasa_project import NLU, RULES, line_of, write_project
from training.data import load_examples

DEMO = Path(__file__).resolve().parents[3] / "demo"


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    import_project(write_project(tmp_path / "shop"), tmp_path / "out")
    return tmp_path / "out"


def rows(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["text", "intent"]
        return [(text, intent) for text, intent in reader]


def test_the_examples_are_stripped_and_split_per_intent(imported: Path) -> None:
    train, held_out = rows(imported / "intents.csv"), rows(imported / "intents_eval.csv")
    assert ("send it back from Berlin to Paris", "return_item") in train + held_out
    assert ("track my boots", "order_status") in train + held_out
    assert not any("[" in text or "{" in text for text, _ in train + held_out)
    assert sorted(train + held_out) == sorted(set(train + held_out)) and len(train + held_out) == 17
    count = {intent: sum(1 for _, i in held_out if i == intent) for intent in ("greet", "order_status", "return_item",
                                                                              "goodbye", "affirm", "deny")}
    assert count == {"greet": 1, "order_status": 1, "return_item": 1, "goodbye": 0, "affirm": 0, "deny": 0}
    assert {intent for _, intent in train} == {"greet", "goodbye", "order_status", "return_item", "affirm", "deny"}
    assert len(load_examples(imported / "intents.csv")) == 14  # the file Helpline's trainer reads


def test_the_split_is_the_same_every_time(tmp_path: Path, imported: Path) -> None:
    import_project(tmp_path / "shop", tmp_path / "again")
    for name in ("intents.csv", "intents_eval.csv"):
        assert (tmp_path / "again" / name).read_text() == (imported / name).read_text()


def test_entities_json_keeps_offsets_synonyms_regexes_and_lookups(imported: Path) -> None:
    config = json.loads((imported / "entities.json").read_text())
    assert config["regexes"] == {"order_id": [r"\b\d{4}\b"]}
    assert config["lookups"] == {"city": ["Berlin", "Paris"]}
    assert config["synonyms"] == {"shoes": ["sneakers", "boots", "trainers"]}  # annotations' values count too
    assert config["entities"] == ["city", "order_id", "product"]
    by_text = {example["text"]: example["entities"] for example in config["examples"]}
    assert by_text["send it back from Berlin to Paris"] == [
        {"start": 18, "end": 24, "value": "Berlin", "entity": "city", "role": "from"},
        {"start": 28, "end": 33, "value": "Paris", "entity": "city", "role": "to"}]
    assert by_text["track my boots"] == [{"start": 9, "end": 14, "value": "shoes", "entity": "product"}]
    assert by_text["where is order 4471"] == [{"start": 15, "end": 19, "value": "4471", "entity": "order_id"}]
    found = EntityExtractor.from_file(imported / "entities.json").extract("is order 5120 back from Berlin yet")
    assert {(e["entity"], e["value"]) for e in found} >= {("order_id", "5120"), ("city", "Berlin")}


def test_domain_rules_and_endpoints_load_back(tmp_path: Path, imported: Path) -> None:
    original = Domain.load(tmp_path / "shop" / "domain.yml")
    domain = Domain.load(imported / "domain.yml")
    assert domain.as_dict() == original.as_dict()
    rules = Rules.load(imported / "rules.yml", domain)
    assert rules.form_for("return_item") == "return_form" and rules.after_form("return_form") == ["utter_return_done"]
    text = (imported / "endpoints.yml").read_text()
    assert "${ACTION_PASSWORD}" in text and "tracker_store" not in text  # no secret written, as Rasa reads it
    endpoint = load_action_endpoint(imported / "endpoints.yml", {"ACTION_PASSWORD": "pw", "ACTION_TOKEN": "tk"})
    assert endpoint is not None and endpoint.basic_auth == ("bot", "pw") and endpoint.token == "tk"


def test_company_json_and_faq_are_what_setup_reads(imported: Path) -> None:
    company = json.loads((imported / "company.json").read_text())
    demo = json.loads((DEMO / "company.json").read_text())
    assert company.keys() == demo.keys() and company["replies"].keys() == demo["replies"].keys()
    assert company["name"] == "Shop"
    assert company["replies"]["greeting"] == ["Hello! How can I help?", "Hi there!"]
    assert company["replies"]["fallback"] == "Sorry, I didn't get that."
    faq = load_faq(imported / "faq.jsonl")  # setup refuses an empty or invalid FAQ
    assert [(e.category, e.answer) for e in faq] == [("goodbye", "Bye, see you soon."),
                                                      ("greet", "Hello! How can I help?")]


def test_the_report_lists_what_was_not_carried_over(imported: Path) -> None:
    report = (imported / "import_report.md").read_text()
    carried, not_carried = report.split("## Not carried over")
    assert "- config.yml: policy RulePolicy carried over as rules.yml" in carried
    assert "- config.yml: component RegexEntityExtractor carried over as entities.json" in carried
    for line in (
        "- data/stories.yml: 2 stories not carried over",
        "- config.yml: policy TEDPolicy not carried over",
        "- config.yml: component DIETClassifier not carried over",
        "- endpoints.yml: tracker_store not carried over",
        f"- data/rules.yml line {line_of(RULES, '- rule: say hi')}: rule 'say hi first' applies at conversation start",
        f"- data/rules.yml line {line_of(RULES, '- rule: deny after')}: rule 'deny after confirming' has a condition",
        "- response utter_return_done: variations for slack kept in domain.yml",
        "- intent 'chitchat' is in the domain but has no examples",
    ):
        assert line in not_carried, line
    assert "- rules.yml: 3 intent rules, 1 form activation, 1 form submission" in carried


def test_bad_nlu_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    nlu = NLU.replace("    - bye\n", "    - bye\n  oops: [\n")
    with pytest.raises(RasaFileError, match=r"^data/nlu.yml line \d+: "):
        import_project(write_project(tmp_path / "shop", nlu=nlu), tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written before everything is checked


def test_a_broken_annotation_names_its_item(tmp_path: Path) -> None:
    nlu = NLU.replace('[boots]{"entity": "product", "value": "shoes"}', '[boots]{"entity": "product", value}')
    with pytest.raises(RasaFileError, match=r"^data/nlu.yml line \d+: example 'track my \[boots\]"):
        import_project(write_project(tmp_path / "shop", nlu=nlu), tmp_path / "out")


def test_the_errors_that_stop_an_import(tmp_path: Path) -> None:
    project = write_project(tmp_path / "shop")
    (project / "domain.yml").unlink()
    with pytest.raises(FileNotFoundError, match=r"shop has no Rasa domain: expected domain\.yml or a domain/ folder"):
        import_project(project, tmp_path / "out")
    project = write_project(tmp_path / "shop2", rules=RULES.replace("utter_goodbye", "utter_farewell"))
    with pytest.raises(InvalidRules, match=r"^data/rules.yml line \d+: rule 'goodbye' runs action 'utter_farewell'"):
        import_project(project, tmp_path / "out")
    project = write_project(tmp_path / "shop3", endpoints="action_endpoint:\n  url: localhost:5055\n")
    with pytest.raises(RasaFileError, match=r"^endpoints.yml line 2: action endpoint url 'localhost:5055'"):
        import_project(project, tmp_path / "out")


def test_a_non_empty_folder_needs_force(tmp_path: Path, imported: Path) -> None:
    with pytest.raises(ValueError, match="is not empty; choose another --out or pass --force"):
        import_project(tmp_path / "shop", imported)
    (imported / "notes.txt").write_text("mine")
    result = import_project(write_project(tmp_path / "no-rules", rules=""), imported, force=True)
    assert not (imported / "rules.yml").exists()  # the earlier import's rules are not left behind
    assert (imported / "notes.txt").read_text() == "mine" and "rules.yml" not in result.written


def test_the_default_folder_is_beside_the_current_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_out(Path("projects") / "acme-bot") == Path(os.getcwd()) / "acme-bot-helpline"
