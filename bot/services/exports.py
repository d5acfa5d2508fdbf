"""Export every logged message, with its intent, route and scores, as JSON lines or CSV (personal data masked)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from bot.privacy import training_redactor
from bot.services.database import transcript_store
from bot.settings import Settings
from bot.workspace.exports import EXPORT_FIELDS, export_rows
from bot.workspace.spreadsheet import text_row

FORMATS = ("jsonl", "csv")


def export_transcripts(settings: Settings, out: TextIO | Path, fmt: str = "jsonl") -> int:
    """Write every logged message to ``out`` (a stream, or a file written once the database is open) as ``fmt``:
    ``jsonl``, or ``csv`` with a header. Returns the number of messages."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use one of {', '.join(FORMATS)})")
    with transcript_store(settings) as store:
        rows = export_rows(store, training_redactor(settings))
        if not isinstance(out, Path):
            return write_rows(rows, out, fmt)
        with out.open("w", newline="", encoding="utf-8") as handle:
            return write_rows(rows, handle, fmt)


def write_rows(rows: Iterable[dict[str, Any]], out: TextIO, fmt: str) -> int:
    """Write export ``rows`` to ``out`` as ``fmt``; how many were written."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(text_row(row))  # people open this in a spreadsheet
            count += 1
    else:  # JSON lines are data: written as they are
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
