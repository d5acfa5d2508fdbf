"""The demo company's Rasa domain as the action tests send it, and a new conversation's slots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.rasa.tracker import REQUESTED_SLOT

ROOT = Path(__file__).resolve().parents[3]
DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "demo" / "domain.yml").read_text())
SLOTS = {name: None for name in DOMAIN["slots"]} | {REQUESTED_SLOT: None}
