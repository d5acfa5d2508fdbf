"""FAQ entries: loading them from CSV or JSONL with row-level validation, and versioning them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.file_errors import FileFormatError, raise_all

REQUIRED = ("question", "answer")


@dataclass(frozen=True)
class FaqEntry:
    """One question/answer pair the bot can reply with."""

    id: str
    question: str
    answer: str
    category: str | None = None


class FaqFormatError(FileFormatError):
    """A FAQ file row is invalid; ``str(e)`` reads ``faq.csv line 7: missing 'answer'``."""


def question_id(question: str) -> str:
    """A stable short id derived from the question text."""
    return hashlib.sha256(question.strip().encode("utf-8")).hexdigest()[:12]


def entry_text(entry: FaqEntry) -> str:
    """The text embedded for an entry: question and answer together (measured best on StackFAQ)."""
    return f"{entry.question} {entry.answer}"


def faq_version(entries: Sequence[FaqEntry]) -> str:
    """A 16-hex-digit fingerprint of the entries' content and order."""
    canonical = json.dumps(
        [[e.id, e.question, e.answer, e.category] for e in entries], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def load_faq(path: Path) -> list[FaqEntry]:
    """Read and validate every row of a ``.csv`` or ``.jsonl`` FAQ file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise ValueError(f"{path.name}: unsupported FAQ file type {path.suffix!r} (use .csv or .jsonl)")
    if not path.is_file():
        raise FileNotFoundError(f"FAQ file not found: {path}")
    text = _read_text(path)
    rows = _csv_rows(path, text) if suffix == ".csv" else _jsonl_rows(path, text)

    entries: list[FaqEntry] = []
    errors: list[FaqFormatError] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        if isinstance(row, FaqFormatError):
            errors.append(row)
            continue
        try:
            entry = _entry(row)
        except ValueError as exc:
            errors.append(FaqFormatError(path, line, str(exc)))
            continue
        if entry.id in first_line:
            what = f"duplicate id {entry.id!r}" if row.get("id") else "duplicate question"
            errors.append(FaqFormatError(path, line, f"{what} (first on line {first_line[entry.id]})"))
            continue
        first_line[entry.id] = line
        entries.append(entry)
    if not entries and not errors:
        errors.append(FaqFormatError(path, 1, "no FAQ entries"))
    raise_all(errors)
    return entries


Row = dict[str, Any]


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")  # tolerate the BOM spreadsheet programs write
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FaqFormatError(path, line, "not valid UTF-8") from exc


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, Row | FaqFormatError]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        yield 1, FaqFormatError(path, 1, f"unreadable header ({exc})")
        return
    if not header:
        yield 1, FaqFormatError(path, 1, "empty file (expected a header row with question,answer)")
        return
    header = reader.fieldnames = [name.strip().lower() for name in header]  # " Question" is "question"
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        yield 1, FaqFormatError(path, 1, "header lacks " + ", ".join(repr(m) for m in missing))
        return
    end = reader.line_num
    while True:
        start = end + 1  # a quoted field may span lines: report the line the row starts on
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, FaqFormatError(path, start, f"malformed CSV ({exc})")
            return
        end = reader.line_num
        if None in row:
            yield start, FaqFormatError(path, start, f"{len(header) + len(row[None])} fields, header has {len(header)}")
        else:
            yield start, row


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[int, Row | FaqFormatError]]:
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and other characters it breaks on.
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, FaqFormatError(path, number, f"invalid JSON ({exc.msg})")
            continue
        if isinstance(row, dict):
            yield number, row
        else:
            yield number, FaqFormatError(path, number, f"expected a JSON object, got {type(row).__name__}")


def _entry(row: Row) -> FaqEntry:
    """Build one entry from a row, raising ValueError with the reason when it is invalid."""
    values: dict[str, str | None] = {}
    for name in ("id", "question", "answer", "category"):
        value = row.get(name)
        if value is None:
            values[name] = None
        elif isinstance(value, str | int) and not isinstance(value, bool):
            values[name] = str(value).strip() or None
        else:
            raise ValueError(f"{name!r} must be a string, got {type(value).__name__}")
    for name in REQUIRED:
        if values[name] is None:
            raise ValueError(f"missing {name!r}")
    question, answer = values["question"], values["answer"]
    assert question is not None and answer is not None
    return FaqEntry(
        id=values["id"] or question_id(question),
        question=question,
        answer=answer,
        category=values["category"],
    )
