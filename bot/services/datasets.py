"""Build the next training set from the seed data and the logged conversations, and write it as CSV files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.learning.training_data import dataset_from_logs
from bot.services.database import transcript_store
from bot.services.erasure_files import files_lock, record_written, scrub_training_sets
from bot.settings import Settings
from bot.store.erasure import erased_since
from bot.store.models import utcnow

# how far before its own start a build checks for erasures: the erasing process's clock may run behind
CLOCK_SLACK = timedelta(minutes=5)


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
    started = utcnow()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = out or settings.data_dir / "datasets" / f"dataset-{stamp}.csv"
    with transcript_store(settings) as store:
        dataset = dataset_from_logs(settings, store, weak_floor=floor)
        with files_lock(settings):  # an erasure waits for the files, or they wait for it and are checked below
            dataset.write_csv(out)
            held_out = dataset.write_csv(held_out_path(out), held_out=True)
            record_written(settings, out, held_out)
            # a conversation erased while its messages were being read has rows here the erasure did not see
            if late := erased_since(store, started - CLOCK_SLACK):
                scrub_training_sets([out, held_out], late, ())
    return DatasetWritten(out, held_out, dataset.summary())
