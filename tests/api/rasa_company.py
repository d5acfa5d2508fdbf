"""A company with a Rasa side for the server tests: the demo's model, FAQ, domain and rules, plus rules of the
tests' own that run actions which misbehave (tests.bot.rasa.actions has them)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.services.setup import copy_company_files
from bot.settings import Settings

DEMO = Path(__file__).resolve().parents[2] / "demo"
MISBEHAVING = {"test_reject": "action_reject", "test_crash": "action_crash", "test_slow": "action_slow",
               "test_missing": "action_not_on_the_server", "test_pause": "action_pause"}


def rasa_company(tmp_path: Path, demo_data_dir: Path,
                 change: Callable[[dict[str, Any], list[dict[str, Any]]], None] | None = None) -> Path:
    """A data dir with the demo's model and FAQ, and the demo's Rasa side plus the misbehaving rules;
    ``change`` may alter the domain and the rules before they are set up."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    shutil.copyfile(demo_data_dir / "company.json", data_dir / "company.json")
    for shared in ("faq", "models"):
        (data_dir / shared).symlink_to(demo_data_dir / shared, target_is_directory=True)
    company = tmp_path / "company"
    shutil.copytree(DEMO, company, ignore=shutil.ignore_patterns("actions", "*.jsonl", "*.csv"))
    domain = yaml.safe_load((company / "domain.yml").read_text())
    domain["intents"] += list(MISBEHAVING)
    domain["actions"] += [*MISBEHAVING.values(), "action_guess_shoe_size"]
    domain["slots"]["shoe_size"] = {"type": "text", "influence_conversation": False,  # filled on the server
                                    "mappings": [{"type": "custom", "action": "action_guess_shoe_size"}]}
    rules = yaml.safe_load((company / "rules.yml").read_text())
    rules["rules"] += [{"rule": f"run {action}", "steps": [{"intent": intent}, {"action": action}]}
                       for intent, action in MISBEHAVING.items()]
    if change is not None:
        change(domain, rules["rules"])
    (company / "domain.yml").write_text(yaml.safe_dump(domain, sort_keys=False))
    (company / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    copy_company_files(Settings(data_dir=data_dir), company)
    return data_dir
