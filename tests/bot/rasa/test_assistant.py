"""A company's Rasa side is copied by setup and loaded from the data dir; a customer message fills its slots."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import pytest

from bot.rasa.assistant import RasaAssistant
from bot.rasa.files import RasaFileError
from bot.services.setup import copy_company_files
from bot.settings import Settings
from tests.servers import ActionServerProcess, free_port

ROOT = Path(__file__).resolve().parents[3]
RULES = """version: "3.1"
rules:
  - rule: order status
    steps:
      - intent: order_status
      - action: action_order_status
"""
ENDPOINTS = """action_endpoint:
  url: "${ACTIONS_URL}"
  headers:
    X-Shop: northwind
"""


def company(tmp_path: Path, *, rasa: bool = True) -> Path:
    folder = tmp_path / "company"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(ROOT / "demo" / "company.json", folder / "company.json")
    for name in ("domain.yml", "rules.yml", "endpoints.yml"):
        (folder / name).unlink(missing_ok=True)
    if rasa:
        shutil.copyfile(ROOT / "demo" / "domain.yml", folder / "domain.yml")
        (folder / "rules.yml").write_text(RULES)
        (folder / "endpoints.yml").write_text(ENDPOINTS)
    return folder


def test_setup_copies_the_rasa_files_and_the_bot_loads_them(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    copy_company_files(settings, company(tmp_path))
    assistant = RasaAssistant.load(settings.rasa_dir, {"ACTIONS_URL": "http://127.0.0.1:5055/webhook"})
    assert assistant is not None
    assert assistant.rules.actions_for("order_status") == ["action_order_status"]
    assert assistant.endpoint is not None and assistant.endpoint.url == "http://127.0.0.1:5055/webhook"
    assert assistant.endpoint.headers == {"X-Shop": "northwind"} and assistant.endpoint.timeout_s == 10.0


def test_the_settings_override_the_endpoint_and_a_missing_variable_is_named(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    copy_company_files(settings, company(tmp_path))
    with pytest.raises(RasaFileError, match=r"endpoints.yml line 2: .*ACTIONS_URL"):
        RasaAssistant.load(settings.rasa_dir, {})
    overridden = RasaAssistant.load(settings.rasa_dir, {"ACTIONS_URL": "http://x:1/webhook"},
                                    url="http://127.0.0.1:9/webhook", timeout_s=2.5)
    assert overridden is not None and overridden.endpoint is not None
    assert (overridden.endpoint.url, overridden.endpoint.timeout_s) == ("http://127.0.0.1:9/webhook", 2.5)


def test_a_company_set_up_again_without_a_domain_has_no_rasa_side(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    copy_company_files(settings, company(tmp_path))
    copy_company_files(settings, company(tmp_path, rasa=False))  # the old company's domain must not linger
    assert RasaAssistant.load(settings.rasa_dir, {}) is None


def test_a_message_adds_its_user_event_and_the_slots_it_fills(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    copy_company_files(settings, company(tmp_path))
    assistant = RasaAssistant.load(settings.rasa_dir, {"ACTIONS_URL": "http://127.0.0.1:5055/webhook"})
    assert assistant is not None
    tracker = assistant.tracker("c1", [])
    added = assistant.heard(tracker, "where is my order #4471?", "m1", "order_status", 0.93,
                            [("order_status", 0.93), ("shipping", 0.04)])
    # a new conversation starts as Rasa starts one, then the message and the slot it fills
    assert [(e["event"], e.get("name")) for e in added] == [
        ("action", "action_session_start"), ("session_started", None), ("action", "action_listen"),
        ("user", None), ("slot", "order_id")]
    user = added[3]["parse_data"]
    assert user["intent"] == {"name": "order_status", "confidence": 0.93}
    assert [(e["entity"], e["value"]) for e in user["entities"]] == [("order_id", "4471")]
    assert tracker.slots["order_id"] == "4471" and tracker.latest_message["text"] == "where is my order #4471?"
    rebuilt = assistant.tracker("c1", added)  # what the next turn reads back from the database
    assert rebuilt.current_state() == tracker.current_state()


def test_the_actions_the_server_lacks_are_named_at_start(tmp_path: Path, action_server: ActionServerProcess,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    folder = company(tmp_path)
    domain = (folder / "domain.yml").read_text().replace("  - action_order_status\n",
                                                        "  - action_order_status\n  - action_book_table\n")
    (folder / "domain.yml").write_text(domain)
    copy_company_files(settings, folder)
    assistant = RasaAssistant.load(settings.rasa_dir, {"ACTIONS_URL": action_server.url})
    assert assistant is not None
    assert asyncio.run(assistant.missing_actions()) == ["action_book_table"]
    with caplog.at_level(logging.WARNING):
        asyncio.run(assistant.report_missing_actions())
    assert "does not offer: action_book_table" in caplog.text


def test_an_unreachable_action_server_is_a_warning_not_a_crash(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    copy_company_files(settings, company(tmp_path))
    assistant = RasaAssistant.load(settings.rasa_dir, {"ACTIONS_URL": f"http://127.0.0.1:{free_port()}/webhook"})
    assert assistant is not None
    with caplog.at_level(logging.WARNING):
        asyncio.run(assistant.report_missing_actions())
    assert "cannot list the action server's actions" in caplog.text


def test_a_conversation_idle_past_the_session_expiry_starts_a_new_session_with_its_slots(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    copy_company_files(settings, company(tmp_path))
    assistant = RasaAssistant.load(settings.rasa_dir, {"ACTIONS_URL": "http://127.0.0.1:5055/webhook"})
    assert assistant is not None
    minutes, carry_over = assistant.domain.session_config
    tracker = assistant.tracker("c1", [])
    assistant.heard(tracker, "where is my order #4471?", "m1", "order_status", 0.93, [])
    last = tracker.events[-1]["timestamp"]
    assert assistant.session_start(tracker, now=last + minutes * 60 - 1) == []  # the session goes on
    restarted = assistant.session_start(tracker, now=last + minutes * 60 + 1)
    assert [(e["event"], e.get("name")) for e in restarted] == [
        ("action", "action_session_start"), ("session_started", None),
        *([("slot", "order_id")] if carry_over else []), ("action", "action_listen")]
    for event in restarted:
        tracker.apply(event)
    assert tracker.slots["order_id"] == ("4471" if carry_over else None)
