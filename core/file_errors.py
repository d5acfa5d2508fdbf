"""The one error for a bad row of a data file: it names the file and the line, and carries the other bad rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class FileFormatError(ValueError):
    """A row of a data file is invalid; ``str(e)`` reads ``faq.csv line 7: missing 'answer'``."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        # Every further problem found in the same file, so a CLI can list them all at once.
        self.others: tuple[FileFormatError, ...] = ()
        super().__init__(f"{self.path.name} line {line}: {reason}")


def raise_all(errors: Sequence[FileFormatError]) -> None:
    """Raise the first error of a file with the rest attached as ``others`` (nothing when there are none)."""
    if errors:
        first = errors[0]
        first.others = tuple(errors[1:])
        raise first
