"""A Rasa 3.x project folder read whole: what Helpline carries over, and a note for everything it does not.

Read as Rasa reads a project: ``domain.yml`` (or a ``domain/`` folder), every YAML file under ``data/`` by the
sections it holds (``nlu:``, ``rules:``, ``stories:``), ``endpoints.yml``, and ``config.yml``,
``credentials.yml`` and ``tests/`` only to say what of them stays behind. Nothing is dropped silently: a part
that does not carry over becomes a line of ``notes``, naming the file it is in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.rasa.domain import Domain
from bot.rasa.endpoints import (
    InvalidEndpoint,
    action_endpoint_config,
    check_url,
    endpoint_from_config,
    expand,
    uses_variables,
)
from bot.rasa.files import Located, read_mapping, shown_name
from bot.rasa.nlu import NluData
from bot.rasa.rules import Rules

YAML_SUFFIXES = (".yml", ".yaml")
DATA_KEYS = frozenset({"version", "nlu", "rules", "stories", "responses"})
# config.yml's pipeline components whose work Helpline does another way, and how
CARRIED_COMPONENTS = {
    "RegexEntityExtractor": "entities.json (regexes and lookup tables)",
    "EntitySynonymMapper": "entities.json (synonyms)",
    "RegexFeaturizer": "entities.json (regexes)",
    "RulePolicy": "rules.yml (the rules Helpline runs)",
}
ENDPOINT_SECTIONS = {  # endpoints.yml sections besides action_endpoint, and why they stay behind
    "tracker_store": "Helpline keeps conversations in its own database, HELPLINE_DATABASE_URL",
    "event_broker": "Helpline publishes its own events", "lock_store": "Helpline needs no lock store",
    "nlg": "Helpline renders the domain's responses itself", "models": "Helpline trains and serves its own model",
}


@dataclass
class RasaProject:
    """The parts of a project Helpline uses, and ``notes`` on the rest."""

    root: Path
    domain: Domain
    nlu: NluData
    rules: Rules
    rule_entries: list[Any]  # every rule as written, for the company's rules.yml
    endpoint: Located | None  # action_endpoint as written, ${…} kept
    notes: list[str] = field(default_factory=list)


def read_project(root: Path) -> RasaProject:
    """Read and check a Rasa project; a missing domain or bad YAML is an error naming the file (and line)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Rasa project folder not found: {root}")
    notes: list[str] = []
    domain = Domain.load(_domain_path(root, notes), root)
    notes.extend(domain.warnings)
    nlu = NluData()
    rule_entries: list[Any] = []
    first_rules: Located | None = None  # where an error about rules in general points
    for path in _yaml_files(root / "data"):
        shown = shown_name(path, root)
        data = read_mapping(path, shown)
        if "nlu" in data:
            nlu.read(data["nlu"], data)
        rules = data.get("rules") or []
        if not isinstance(rules, list):
            raise data.error("rules must be a list")
        rule_entries.extend(rules)
        first_rules = first_rules or (data if rules else None)
        _note_data_sections(data, shown, notes)
    if not nlu.examples:
        raise ValueError(f"{root.name}: no intent examples (expected data/nlu.yml, or a YAML file under data/ "
                         "with an nlu: section)")
    rules = Rules.parse(rule_entries, domain, first_rules or Located())
    notes.extend(rules.notes)
    endpoint = _endpoint(root, notes)
    _note_config(root, notes)
    _note_other_files(root, notes)
    return RasaProject(root, domain, nlu, rules, rule_entries, endpoint, notes)


def _domain_path(root: Path, notes: list[str]) -> Path:
    files = [root / name for name in ("domain.yml", "domain.yaml") if (root / name).is_file()]
    if files and (root / "domain").is_dir():
        notes.append(f"domain/: not read, {files[0].name} is the domain (as `rasa train` reads it by default)")
    if files:
        return files[0]
    if (root / "domain").is_dir():
        return root / "domain"
    raise FileNotFoundError(f"{root.name} has no Rasa domain: expected domain.yml or a domain/ folder in {root}")


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.suffix in YAML_SUFFIXES and path.is_file()) \
        if folder.is_dir() else []


def _note_data_sections(data: Located, shown: str, notes: list[str]) -> None:
    stories = data.get("stories")
    if stories:
        count = len(stories) if isinstance(stories, list) else 1
        notes.append(f"{shown}: {count} stor{'y' if count == 1 else 'ies'} not carried over (Helpline runs rules; "
                     "stories train Rasa's ML dialogue policies, which it does not have)")
    if data.get("responses"):
        notes.append(f"{shown}: responses in a data file (retrieval intents' answers) not carried over; "
                     "move them to the domain")
    for key in sorted(set(data) - DATA_KEYS):
        notes.append(f"{shown}: section '{key}' not carried over")


def _endpoint(root: Path, notes: list[str]) -> Located | None:
    path = next((root / name for name in ("endpoints.yml", "endpoints.yaml") if (root / name).is_file()), None)
    if path is None:
        notes.append("endpoints.yml: none, so no action server; custom actions cannot run until one is configured")
        return None
    shown = shown_name(path, root)
    for key in sorted(set(read_mapping(path, shown)) - {"action_endpoint"}):
        notes.append(f"{shown}: {key} not carried over: {ENDPOINT_SECTIONS.get(key, 'not a Helpline setting')}")
    section = action_endpoint_config(path, shown)
    if section is None:
        notes.append(f"{shown}: no action_endpoint, so custom actions cannot run")
        return None
    if "actions_module" in section and "url" not in section:
        raise section.error("action_endpoint runs actions_module in Rasa's process; Helpline needs an action "
                            "server url (run `rasa run actions` and point url at it)")
    for key in sorted(set(section) - {"url", "headers", "basic_auth", "token", "timeout"}):
        notes.append(f"{shown} line {section.line}: action_endpoint option '{key}' not carried over")
    probe = Located(section)  # every ${VARIABLE} a placeholder: an import checks the shape, not the secrets
    probe.shown, probe.line = section.shown, section.line
    url = section.get("url")
    if isinstance(url, str) and uses_variables(url):
        try:
            check_url(expand(url, _PLACEHOLDERS))
        except InvalidEndpoint:  # the whole URL comes from the environment: checked when Helpline fills it in
            notes.append(f"{shown}: url {url} is checked when Helpline loads it with the variables set")
            probe["url"] = "http://placeholder"
    endpoint_from_config(probe, _PLACEHOLDERS)  # raises at its line when the endpoint is unusable
    return section


class _Placeholders(dict[str, str]):
    """An environment in which every variable is set, to the word ``placeholder``."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return "placeholder"


_PLACEHOLDERS = _Placeholders()


def _note_config(root: Path, notes: list[str]) -> None:
    path = root / "config.yml"
    if not path.is_file():
        return
    config = read_mapping(path, "config.yml")
    language = config.get("language")
    if language not in (None, "en"):
        notes.append(f"config.yml: language '{language}': Helpline's encoder (all-MiniLM-L6-v2) is English")
    for key, what in (("pipeline", "component"), ("policies", "policy")):
        items = config.get(key) or []
        for item in items if isinstance(items, list) else [items]:
            name = item.get("name") if isinstance(item, dict) else item
            instead = CARRIED_COMPONENTS.get(str(name))
            if instead:
                notes.append(f"config.yml: {what} {name} carried over as {instead}")
            else:
                notes.append(f"config.yml: {what} {name} not carried over (Helpline's intent classifier and rules "
                             "take its place)")
    for key in sorted(set(config) - {"pipeline", "policies", "language", "recipe", "assistant_id", "version"}):
        notes.append(f"config.yml: {key} not carried over")


def _note_other_files(root: Path, notes: list[str]) -> None:
    if (root / "credentials.yml").is_file():
        channels = read_mapping(root / "credentials.yml", "credentials.yml")
        for channel in sorted(channels):
            notes.append(f"credentials.yml: channel {channel} not carried over (Helpline serves its own web widget)")
    tests = _yaml_files(root / "tests")
    if tests:
        notes.append(f"tests/: {len(tests)} test file(s) (end-to-end test stories) not carried over")
    if (root / "actions").is_dir():
        notes.append("actions/: stays with your action server (`rasa run actions`); Helpline calls it at the "
                     "action_endpoint url")
