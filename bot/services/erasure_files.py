"""The files made from transcripts that an erasure must reach: the training sets `dataset build` wrote and the
evaluation reports in the model registry.

Writers of training sets and erasures take one lock (a file lock in the data dir), so a set written while a
conversation is erased is either scrubbed by the erasure or checked by its writer against the erasure.
"""

from __future__ import annotations

import fcntl
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.privacy import training_redactor
from bot.settings import Settings
from training.data import clean_text
from training.erasure import scrub_csv, scrub_report

LOCK_FILE = ".erasure.lock"
REPORT_PAGE = "report/index.html"  # training.report's page in a version folder (not imported: that loads torch)
ELSEWHERE = "written-elsewhere.txt"  # training sets `dataset build --out` wrote outside <data dir>/datasets


@dataclass(frozen=True)
class FilesScrubbed:
    """How much of the erased conversations left the files made from transcripts."""

    training_rows: int = 0  # rows dropped from training-set CSVs
    report_examples: int = 0  # example texts dropped from evaluation reports
    files: tuple[Path, ...] = ()  # the files rewritten

    def to_dict(self) -> dict[str, Any]:
        return {"training_rows": self.training_rows, "report_examples": self.report_examples,
                "files": len(self.files)}


def datasets_dir(settings: Settings) -> Path:
    return settings.data_dir / "datasets"


@contextmanager
def files_lock(settings: Settings) -> Iterator[None]:
    """Hold the lock that erasures and training-set writers of this data dir share (across processes)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (settings.data_dir / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


def record_written(settings: Settings, *paths: Path) -> None:
    """Remember training sets written outside the datasets folder, so an erasure finds them too."""
    inside = datasets_dir(settings).resolve()
    outside = [path.resolve() for path in paths if not path.resolve().is_relative_to(inside)]
    if outside:
        inside.mkdir(parents=True, exist_ok=True)
        with (inside / ELSEWHERE).open("a", encoding="utf-8") as handle:
            handle.writelines(f"{path}\n" for path in outside)


def training_set_files(settings: Settings) -> list[Path]:
    """Every training set `dataset build` wrote that is still there."""
    folder = datasets_dir(settings)
    found = sorted(folder.rglob("*.csv")) if folder.is_dir() else []
    listed = folder / ELSEWHERE
    if listed.is_file():
        found += [Path(line) for line in dict.fromkeys(listed.read_text(encoding="utf-8").splitlines()) if line]
    return [path for path in dict.fromkeys(found) if path.is_file()]


def report_files(settings: Settings) -> list[Path]:
    """The evaluation report of every model version (its top confusions quote evaluation texts)."""
    root = settings.models_dir
    return sorted(root.glob(f"*/{REPORT_PAGE}")) if root.is_dir() else []


def matching_texts(settings: Settings, texts: Collection[str]) -> set[str]:
    """The forms a customer's message takes in a training set or a report: redacted as training sets are, and
    as typed (a set written with other redaction settings)."""
    redactor = training_redactor(settings)
    return {form for text in texts for form in (clean_text(redactor.redact(text)), clean_text(text)) if form}


def scrub_training_sets(paths: list[Path], conversation_ids: Collection[str], texts: Collection[str]
                        ) -> tuple[int, list[Path]]:
    """Drop the conversations' rows from ``paths`` (call it holding ``files_lock``): (rows dropped, files)."""
    removed, changed = 0, list[Path]()
    for path in paths:
        if count := scrub_csv(path, conversation_ids, texts):
            removed, changed = removed + count, [*changed, path]
    return removed, changed


def scrub_files(settings: Settings, conversation_ids: Collection[str], texts: Collection[str]) -> FilesScrubbed:
    """Take the erased conversations out of every training set and model report in the data dir.

    Training-set rows are found by conversation id; reports (and training sets written before rows named their
    conversation) by the customer's ``texts``, which are only known while the rows are being deleted.
    """
    if not conversation_ids:
        return FilesScrubbed()
    forms = matching_texts(settings, texts)
    with files_lock(settings):
        rows, changed = scrub_training_sets(training_set_files(settings), conversation_ids, forms)
        examples = 0
        for report in report_files(settings) if forms else []:
            if count := scrub_report(report, forms):
                examples, changed = examples + count, [*changed, report]
    return FilesScrubbed(rows, examples, tuple(changed))
