"""A small company and data dirs of each test's own for the workflow tests (real SQLite, real tiny models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.tiny_models import TINY_INTENTS, fresh_data_dir, write_intents

# Few, short examples: a real training run on them takes seconds.
INTENTS = TINY_INTENTS
EVAL = {
    "salutation": ["hello there", "hi, good morning", "hey there"],
    "parcel_status": ["where's my package", "order not delivered", "parcel is late"],
    "farewell": ["ok bye", "goodbye and thanks", "see ya"],
}
FAQ = [
    {"id": "ship", "question": "Do you ship to Norway?", "answer": "Yes, in 3-5 days.", "category": "shipping"},
    {"id": "pay", "question": "Which payment methods do you accept?", "answer": "Cards and PayPal."},
]



@pytest.fixture
def company(tmp_path: Path) -> Path:
    """A company folder as `helpline setup --company` reads it: replies, FAQ, seed intents and their eval set."""
    folder = tmp_path / "acme"
    write_intents(folder / "intents.csv", INTENTS)
    write_intents(folder / "intents_eval.csv", EVAL)
    (folder / "faq.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in FAQ))
    (folder / "company.json").write_text(json.dumps({"name": "Acme"}))
    return folder


@pytest.fixture
def empty_settings(tmp_path: Path) -> Settings:
    """Settings over an empty data dir (no FAQ, no model) with its own SQLite database."""
    return Settings(data_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'helpline.db'}")


@pytest.fixture
def served_settings(demo_data_dir: Path, tmp_path: Path) -> Settings:
    """Settings over a data dir of this test's own, serving the demo model and FAQ, with its own database."""
    data_dir, _ = fresh_data_dir(demo_data_dir, tmp_path / "served")
    return Settings(data_dir=data_dir, database_url=f"sqlite:///{tmp_path / 'served.db'}", stream_delay_ms=0,
                    reload_seconds=3600)
