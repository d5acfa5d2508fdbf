"""`helpline import rasa`: a Rasa 3.x project made into a Helpline company folder, with a report.

Everything is read and checked before anything is written, so a bad project leaves no half-written folder.
The folder holds what `helpline setup --company` reads (``intents.csv``, ``intents_eval.csv``,
``company.json``, ``faq.jsonl``) and the Rasa parts the bot runs (``domain.yml``, ``rules.yml``,
``endpoints.yml`` with its ``${…}`` kept, ``entities.json``), plus ``import_report.md``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.rasa.company_files import company_json, company_name, faq_entries
from bot.rasa.domain import LATEST_VERSION
from bot.rasa.domain_checks import names
from bot.rasa.files import plain
from bot.rasa.nlu import Example as NluExample
from bot.rasa.project import RasaProject, read_project
from training.data import Example, clean_text, stratified_split

EVAL_FRACTION = 0.2  # held out per intent; an intent always keeps one example for training
SPLIT_SEED = 0  # the same project always splits the same way
WRITTEN = ("intents.csv", "intents_eval.csv", "domain.yml", "rules.yml", "endpoints.yml", "entities.json",
           "company.json", "faq.jsonl", "import_report.md")


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote: the files, what came over (``carried``), what did not (``not_carried``)."""

    project: Path
    out: Path
    written: tuple[str, ...]
    carried: tuple[str, ...]
    not_carried: tuple[str, ...]
    counts: dict[str, int]

    def report(self) -> str:
        """``import_report.md``."""
        lines = [f"# Rasa import: {self.project.name}", "", f"From `{self.project}` into `{self.out}`.", "",
                 "## Carried over", "", *(f"- {line}" for line in self.carried), "",
                 "## Not carried over", "", *(f"- {line}" for line in self.not_carried or ["nothing"]), ""]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """What `helpline import rasa` prints as its last line."""
        return {"out": str(self.out), "written": list(self.written), **self.counts,
                "not_carried": len(self.not_carried)}


def default_out(project: Path) -> Path:
    """``./<project folder>-helpline``."""
    return Path.cwd() / f"{Path(project).resolve().name}-helpline"


def import_project(project: Path, out: Path | None = None, force: bool = False) -> ImportResult:
    """Read ``project``, then write the company folder ``out``; a non-empty ``out`` needs ``force``."""
    project = Path(project)
    rasa = read_project(project)
    out = Path(out) if out is not None else default_out(project)
    _prepare(out, project, force)
    notes = list(rasa.notes)
    train, held_out = _split(rasa, notes)
    name = company_name(project.resolve().name)
    written: list[str] = []

    def write(file: str, text: str) -> None:
        (out / file).write_text(text, encoding="utf-8")
        written.append(file)

    write("intents.csv", _csv(train))
    if held_out:  # setup evaluates on the file when it exists, and an empty one is an error
        write("intents_eval.csv", _csv(held_out))
    write("domain.yml", rasa.domain.to_yaml())
    if rasa.rule_entries:
        write("rules.yml", _yaml({"version": LATEST_VERSION, "rules": plain(rasa.rule_entries)}))
    if rasa.endpoint is not None:
        write("endpoints.yml", _yaml({"action_endpoint": plain(rasa.endpoint)}))
    write("entities.json", json.dumps(_entity_config(rasa), indent=2, ensure_ascii=False) + "\n")
    company, reply_sources = company_json(name, rasa.domain)
    write("company.json", json.dumps(company, indent=2, ensure_ascii=False) + "\n")
    first: dict[str, str] = {}  # each intent's first training example: its FAQ question
    for example in train:
        first.setdefault(example.label, example.text)
    faq = faq_entries(name, rasa.domain, rasa.rules, first)
    write("faq.jsonl", "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in faq))
    if faq[0]["id"] == "about":
        notes.append("faq.jsonl: no rule answers an intent with one plain-text response, so it holds one "
                     "placeholder entry; replace it with the company's questions and answers")
    _note_leftovers(rasa, notes)
    counts = _counts(rasa, train, held_out, len(faq))
    # the project's notes on parts that came over another way (a component as entities.json) read as carried
    moved = [note for note in notes if " carried over as " in note or " carried over for every turn" in note]
    notes = [note for note in notes if note not in moved]
    carried = _carried(rasa, counts, reply_sources) + moved
    result = ImportResult(project, out, (*written, "import_report.md"), tuple(carried), tuple(notes), counts)
    (out / "import_report.md").write_text(result.report(), encoding="utf-8")
    return result


def _prepare(out: Path, project: Path, force: bool) -> None:
    if out.resolve() == project.resolve():
        raise ValueError(f"{out}: the output folder cannot be the Rasa project itself")
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ValueError(f"{out} is not empty; choose another --out or pass --force to overwrite")
        for file in WRITTEN:  # files of an earlier import that this one may not write again
            (out / file).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _split(rasa: RasaProject, notes: list[str]) -> tuple[list[Example], list[Example]]:
    """(train, held out) in the order the examples were written, each text once."""
    first_intent: dict[str, str] = {}
    examples: list[Example] = []
    for nlu in rasa.nlu.examples:
        text = clean_text(nlu.text)
        if text in first_intent:
            if first_intent[text] != nlu.intent:
                notes.append(f"example {text!r} of intent '{nlu.intent}' is also one of '{first_intent[text]}': "
                             "kept for the first only")
            continue
        first_intent[text] = nlu.intent
        examples.append(Example(text, nlu.intent))
    train, held_out = stratified_split(examples, EVAL_FRACTION, SPLIT_SEED)
    order = {id(example): index for index, example in enumerate(examples)}
    train.sort(key=lambda example: order[id(example)])
    held_out.sort(key=lambda example: order[id(example)])
    declared, trained = set(rasa.domain.intents), {example.label for example in examples}
    for intent in sorted(trained - declared):
        notes.append(f"intent '{intent}' has examples but is not in the domain (Rasa warns; Helpline trains on it)")
    for intent in sorted(set(names(rasa.domain.data.get("intents"))) - trained):
        notes.append(f"intent '{intent}' is in the domain but has no examples: the classifier never predicts it")
    return train, held_out


def _csv(examples: list[Example]) -> str:
    # training data that `helpline setup` reads back, so not escaped for spreadsheets (see training/dataset.py)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "intent"])
    writer.writerows((example.text, example.label) for example in examples)
    return buffer.getvalue()


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def _entity_config(rasa: RasaProject) -> dict[str, Any]:
    """entities.json, as ``bot.rasa.entities.EntityExtractor.from_config`` reads it."""
    annotated: list[NluExample] = [example for example in rasa.nlu.examples if example.entities]
    return {
        "regexes": rasa.nlu.regexes,
        "lookups": rasa.nlu.lookups,
        "synonyms": {value: variants for value, variants in rasa.nlu.synonyms.items() if variants},
        "examples": [{"text": example.text, "intent": example.intent,
                      "entities": [entity.to_dict() for entity in example.entities]} for example in annotated],
        "entities": rasa.domain.entities,
    }


def _note_leftovers(rasa: RasaProject, notes: list[str]) -> None:
    declared = set(rasa.domain.entities)
    for entity in sorted({e.entity for example in rasa.nlu.examples for e in example.entities} - declared):
        notes.append(f"entity '{entity}' is annotated in examples but not in the domain: no slot can take it")
    for name, variations in sorted(rasa.domain.responses.items()):
        channels = sorted({str(v["channel"]) for v in variations if v.get("channel")})
        if channels:
            notes.append(f"response {name}: variations for {', '.join(channels)} kept in domain.yml, but Helpline's "
                         "web widget shows only those without a channel")


def _counts(rasa: RasaProject, train: list[Example], held_out: list[Example], faq: int) -> dict[str, int]:
    domain, rules, nlu = rasa.domain, rasa.rules, rasa.nlu
    return {
        "intents": len({example.label for example in train}), "examples": len(train), "eval_examples": len(held_out),
        "slots": len(domain.data.get("slots") or {}), "forms": len(domain.forms), "responses": len(domain.responses),
        "actions": len(domain.actions), "rules": len(rules.intent_actions) + len(rules.form_submits),
        "regexes": len(nlu.regexes), "lookups": len(nlu.lookups),
        "synonyms": sum(len(variants) for variants in nlu.synonyms.values()), "faq_entries": faq,
    }


def _carried(rasa: RasaProject, counts: dict[str, int], reply_sources: list[str]) -> list[str]:
    rules, entities = rasa.rules, len(rasa.domain.entities)
    annotated = sum(1 for example in rasa.nlu.examples if example.entities)
    lines = [
        f"intents.csv: {_n(counts['examples'], 'example')} of {_n(counts['intents'], 'intent')}; intents_eval.csv: "
        f"{counts['eval_examples']} held out ({EVAL_FRACTION:.0%} of each intent, one always kept for training)",
        f"domain.yml: {_n(entities, 'entity', 'entities')}, {_n(counts['slots'], 'slot')}, "
        f"{_n(counts['forms'], 'form')}, {_n(counts['responses'], 'response')}, "
        f"{_n(counts['actions'], 'custom action')}",
        f"rules.yml: {_n(sum(1 for a in rules.intent_actions.values() if a), 'intent rule')}, "
        f"{_n(len(rules.intent_forms), 'form activation')}, {_n(len(rules.form_submits), 'form submission')}",
        f"entities.json: {_n(counts['regexes'], 'regex', 'regexes')}, {_n(counts['lookups'], 'lookup table')}, "
        f"{_n(counts['synonyms'], 'synonym')}, {_n(annotated, 'annotated example')}",
        f"faq.jsonl: {_n(counts['faq_entries'], 'entry', 'entries')}",
    ]
    if rasa.endpoint is not None:
        lines.append(f"endpoints.yml: action server at {rasa.endpoint.get('url')}"
                     + "".join(f", {key}" for key in ("headers", "basic_auth", "token") if key in rasa.endpoint))
    return lines + reply_sources


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"
