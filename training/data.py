"""Labelled utterances: read them from CSV, validate every row, split them stratified by label."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.file_errors import FileFormatError, raise_all

# Labels that mean "none of our intents"; rows carrying one train the explicit out-of-scope class.
OOS_LABELS = frozenset({"out_of_scope", "oos"})
# Accepted names of the label column, in order of preference.
LABEL_COLUMNS = ("intent", "label", "category")


@dataclass(frozen=True)
class Example:
    """One customer utterance and its intent label."""

    text: str
    label: str


class DataFormatError(FileFormatError):
    """A training file that cannot be read as examples; ``str(e)`` reads ``intents.csv line 12: empty text``."""


def clean_text(text: str) -> str:
    """Strip a text and collapse its internal newlines and runs of whitespace into single spaces."""
    return " ".join(text.split())


def is_oos(label: str) -> bool:
    """Whether a label marks an out-of-scope utterance."""
    return label.lower() in OOS_LABELS


def load_examples(path: Path) -> list[Example]:
    """Read a CSV with a header, a ``text`` column and an ``intent``/``label``/``category`` column.

    Every row is checked; the first bad row is raised with the others attached (``e.others``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training data not found: {path}")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        if "text" not in header:
            raise DataFormatError(path, 1, f"no 'text' column in header {header}")
        label_column = next((name for name in LABEL_COLUMNS if name in header), None)
        if label_column is None:
            raise DataFormatError(path, 1, f"no label column (one of {', '.join(LABEL_COLUMNS)})")
        text_at, label_at = header.index("text"), header.index(label_column)
        examples: list[Example] = []
        errors: list[DataFormatError] = []
        while True:
            line = reader.line_num + 1  # a record's first physical line (quoted newlines span several)
            row = next(reader, None)
            if row is None:
                break
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                errors.append(DataFormatError(path, line, f"expected {len(header)} fields, found {len(row)}"))
                continue
            text, label = clean_text(row[text_at]), row[label_at].strip()
            if not text:
                errors.append(DataFormatError(path, line, "empty text"))
            elif not label:
                errors.append(DataFormatError(path, line, f"empty {label_column}"))
            else:
                examples.append(Example(text, label))
    if not examples and not errors:
        errors.append(DataFormatError(path, 1, "no examples after the header"))
    raise_all(errors)
    return examples


def stratified_split(
    examples: Sequence[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """Split into (train, held_out) holding out ``fraction`` of each label; a label with >=2 keeps one in train."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be in [0, 1), got {fraction}")
    by_label: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_label[example.label].append(example)
    rng = random.Random(seed)
    train: list[Example] = []
    held_out: list[Example] = []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        n_held = min(round(len(group) * fraction), len(group) - 1)
        held_out.extend(group[:n_held])
        train.extend(group[n_held:])
    rng.shuffle(train)
    rng.shuffle(held_out)
    return train, held_out
