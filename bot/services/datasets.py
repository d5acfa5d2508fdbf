"""Build the next training set from the seed data and the logged conversations, and write it as CSV files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.learning.training_data import dataset_from_logs
from bot.services.database import transcript_store
from bot.settings import Settings


@dataclass(frozen=True)
class DatasetWritten:
    """Where the training set and its held-out agent-labelled rows were written, and what they hold."""

    out: Path
    held_out_out: Path
    summary: dict[str, Any]  # rows, by_source, labels, held_out

    def to_dict(self) -> dict[str, Any]:
        """What `helpline dataset build` prints last."""
        return {**self.summary, "out": str(self.out), "held_out_out": str(self.held_out_out)}


def held_out_path(out: Path) -> Path:
    """Where the held-out agent-labelled rows go beside a training set: ``train.csv`` → ``train.held_out.csv``."""
    return out.with_name(f"{out.stem}.held_out{out.suffix or '.csv'}")


def build_training_set(settings: Settings, out: Path | None = None, floor: float | None = None) -> DatasetWritten:
    """Seed rows, agent labels and weak labels (confidence at least ``floor``), deduplicated and redacted.

    Written to ``out`` (default ``<data_dir>/datasets/dataset-<time>.csv``), the held-out rows beside it.
    SeedDataMissing without ``<seed_dir>/intents.csv``; ValueError for a floor outside [0, 1].
    """
    with transcript_store(settings) as store:
        dataset = dataset_from_logs(settings, store, weak_floor=floor)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = out or settings.data_dir / "datasets" / f"dataset-{stamp}.csv"
    dataset.write_csv(out)
    held_out = dataset.write_csv(held_out_path(out), held_out=True)
    return DatasetWritten(out, held_out, dataset.summary())
