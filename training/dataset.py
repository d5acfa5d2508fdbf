"""A training set from the seed data and logged conversations: agent labels, seed rows and weak labels.

Agent labels are authoritative. A message the agents did not label becomes a weak label only when the bot
answered it in scope (FAQ, small talk or handoff; never a fallback), nothing in its conversation was rated
down or judged bad, and the customer rated the answer up or the model was at least ``weak_floor`` sure.
Rows are deduplicated on normalised text (agent > seed > weak) and every text is redacted. A row taken from a
logged message names that message and its conversation, so erasing the conversation finds it in a written set.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.data import Example, clean_text, is_oos
from training.redaction import Redactor

SOURCES = ("agent", "seed", "weak_feedback", "weak_confidence")  # in order of authority
WEAK_ROUTES = frozenset({"faq", "smalltalk", "handoff"})
CSV_FIELDS = ("text", "intent", "source", "message_id", "conversation_id")  # the ids are empty on seed rows


@dataclass(frozen=True)
class LoggedMessage:
    """A logged customer message with what the bot decided, how it was received, and any agent label."""

    message_id: int
    text: str
    predicted_intent: str | None
    confidence: float | None
    route: str | None
    rating: str | None  # the customer's rating of the reply: "up", "down" or None
    conversation_negative: bool  # a reply of the conversation was rated down or judged bad
    label: str | None  # the agent's intent, when one corrected it
    conversation_id: str | None = None


@dataclass(frozen=True)
class DatasetRow:
    text: str
    label: str
    source: str  # one of SOURCES
    message_id: int | None = None  # the logged message it came from (None for seed rows)
    conversation_id: str | None = None


@dataclass
class Dataset:
    """Rows to train on, and agent-labelled rows kept out of training for the evaluation set."""

    train: list[DatasetRow] = field(default_factory=list)
    held_out_labelled: list[DatasetRow] = field(default_factory=list)

    def examples(self) -> list[Example]:
        """The training rows as examples for ``training.trainer.train``."""
        return [Example(row.text, row.label) for row in self.train]

    def held_out_examples(self) -> list[Example]:
        return [Example(row.text, row.label) for row in self.held_out_labelled]

    def summary(self) -> dict[str, Any]:
        """Row counts by source, the number of labels, and the held-out count."""
        by_source = Counter(row.source for row in self.train)
        return {
            "rows": len(self.train),
            "by_source": {source: by_source[source] for source in SOURCES},
            "labels": len({row.label for row in self.train}),
            "held_out": len(self.held_out_labelled),
        }

    def write_csv(self, path: Path, held_out: bool = False) -> Path:
        """Write the training rows (or the held-out ones) as ``CSV_FIELDS``; returns the path.

        Cells are not escaped for spreadsheets as transcript exports are (``bot/workspace/spreadsheet.py``):
        this is data that ``helpline train`` and ``retrain`` read back as it is, and a quote put before
        ``=cancel my order`` would become part of the text the model learns. Import it as text to look at it.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_FIELDS)
            writer.writerows(
                (r.text, r.label, r.source, "" if r.message_id is None else r.message_id, r.conversation_id or "")
                for r in (self.held_out_labelled if held_out else self.train)
            )
        return path


def normalise(text: str) -> str:
    """The deduplication key: case-folded, punctuation dropped, whitespace collapsed."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def is_held_out(message_id: int, fraction: float, seed_value: int = 0) -> bool:
    """Whether a message belongs to the held-out share; fixed by its id, so it never moves between runs."""
    digest = hashlib.sha256(f"{seed_value}:{message_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def weak_source(message: LoggedMessage, weak_floor: float) -> str | None:
    """``weak_feedback``, ``weak_confidence`` or None: whether an unlabelled message may train, and why."""
    if message.conversation_negative or message.rating == "down" or message.route not in WEAK_ROUTES:
        return None
    if not message.predicted_intent or is_oos(message.predicted_intent):
        return None
    if message.rating == "up":
        return "weak_feedback"
    if message.confidence is not None and message.confidence >= weak_floor:
        return "weak_confidence"
    return None


def build_dataset(
    seed: Sequence[Example],
    logged: Iterable[LoggedMessage],
    weak_floor: float,
    redactor: Redactor,
    holdout_fraction: float = 0.2,
    seed_value: int = 0,
) -> Dataset:
    """Assemble the training set and the held-out agent-labelled rows (see the module docstring)."""
    if not 0.0 <= weak_floor <= 1.0:
        raise ValueError(f"weak_floor must be in [0, 1], got {weak_floor}")
    if not 0.0 <= holdout_fraction < 1.0:
        raise ValueError(f"holdout_fraction must be in [0, 1), got {holdout_fraction}")
    # candidates per normalised text: (authority, held out, row); agents' later labels replace earlier ones
    chosen: dict[str, tuple[int, bool, DatasetRow]] = {}

    def offer(text: str, label: str, source: str, held_out: bool = False, origin: LoggedMessage | None = None) -> None:
        text = clean_text(redactor.redact(text))
        key = normalise(text)
        if not key:
            return
        rank = SOURCES.index(source)
        current = chosen.get(key)
        if current is None or rank < current[0] or (rank == current[0] == 0):
            chosen[key] = (rank, held_out, DatasetRow(
                text, label, source, origin.message_id if origin else None, origin.conversation_id if origin else None))

    for example in seed:
        offer(example.text, example.label, "seed")
    for message in logged:
        if message.label:
            offer(message.text, message.label, "agent", is_held_out(message.message_id, holdout_fraction, seed_value),
                  message)
        elif (source := weak_source(message, weak_floor)) is not None:
            offer(message.text, message.predicted_intent or "", source, origin=message)

    ordered = sorted(chosen.values(), key=lambda item: item[0])  # stable: input order within a source
    train = [row for _, held, row in ordered if not held]
    held_out = [row for _, held, row in ordered if held]
    # a label (a new intent) whose every example was held out could not be learnt: train on them instead
    trained_labels = {row.label for row in train}
    orphans = [row for row in held_out if row.label not in trained_labels]
    train += orphans
    return Dataset(train=train, held_out_labelled=[row for row in held_out if row not in orphans])
