"""Erased conversations taken out of the files made from them: training-set CSVs and evaluation reports.

Each file is rewritten beside itself and renamed over the old one, so a reader sees the old file or the new
one, never half of either; a file that holds nothing erased is left as it is.
"""

from __future__ import annotations

import csv
import html
import os
import re
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

TRACE_COLUMN = "conversation_id"  # written by training.dataset.Dataset.write_csv
CONFUSIONS = re.compile(r"(<h2>Top confusions[^<]*</h2>)(.*?)(?=<h2>|\Z)", re.S)  # training.report's section
EXAMPLES_CELL = re.compile(r"<td>([^<]*(?:<br>[^<]*)*)</td></tr>")  # a confusion row's last cell


@contextmanager
def replacing(path: Path) -> Iterator[IO[str]]:
    """A text file to write the new contents of ``path`` into; renamed over ``path`` when the block succeeds."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed and renamed (or removed) below
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False, newline="", encoding="utf-8")
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, path.stat().st_mode & 0o777)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def scrub_csv(path: Path, conversation_ids: Collection[str], texts: Collection[str] = ()) -> int:
    """Drop the rows of erased conversations from a training-set CSV; the number of rows dropped.

    A row is found by its ``conversation_id``. A file written before rows carried it loses instead every row
    whose ``text`` is one of ``texts``: the same words from someone else go too, which errs on the safe side.
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return 0
    header = [name.strip().lower() for name in rows[0]]
    if TRACE_COLUMN in header:
        at, erased = header.index(TRACE_COLUMN), set(conversation_ids)
    elif "text" in header:
        at, erased = header.index("text"), set(texts)
    else:
        return 0
    kept = [row for row in rows[1:] if not (len(row) > at and row[at] in erased)]
    removed = len(rows) - 1 - len(kept)
    if removed:
        with replacing(path) as out:
            csv.writer(out).writerows([rows[0], *kept])
    return removed


def scrub_report(path: Path, texts: Collection[str]) -> int:
    """Drop ``texts`` from the examples of an evaluation report's top confusions; the number dropped.

    The counts stay (they are figures, not words); only the examples go.
    """
    escaped = {html.escape(text) for text in texts}
    page = path.read_text(encoding="utf-8")
    removed = 0

    def cell(match: re.Match[str]) -> str:
        nonlocal removed
        examples = match.group(1).split("<br>") if match.group(1) else []
        kept = [example for example in examples if example not in escaped]
        removed += len(examples) - len(kept)
        return f"<td>{'<br>'.join(kept)}</td></tr>"

    def section(match: re.Match[str]) -> str:
        return match.group(1) + EXAMPLES_CELL.sub(cell, match.group(2))

    scrubbed = CONFUSIONS.sub(section, page)
    if removed:
        with replacing(path) as out:
            out.write(scrubbed)
    return removed
