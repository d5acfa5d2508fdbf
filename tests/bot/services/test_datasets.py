"""Build the next training set in-process from seed rows and logged conversations."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.learning.training_data import SeedDataMissing
from bot.services.database import transcript_store
from bot.services.datasets import build_training_set, held_out_path
from bot.settings import Settings
from bot.store.transcripts import BotReplyRecord


def test_the_set_has_seed_and_weak_rows_and_lands_in_the_data_dir_by_default(empty_settings: Settings) -> None:
    seed = empty_settings.seed_dir / "intents.csv"
    seed.parent.mkdir(parents=True)
    seed.write_text("text,intent\nwhere is my order,orders\nhi,greeting\n")
    with transcript_store(empty_settings) as store:
        conversation, _ = store.open_conversation()
        store.log_turn(conversation, "is my parcel on its way", None,
                       BotReplyRecord("r1", "answer", "orders", 0.95, route="faq"))

    written = build_training_set(empty_settings)

    assert written.out.parent == empty_settings.data_dir / "datasets" and written.out.is_file()
    assert written.held_out_out == held_out_path(written.out) and written.held_out_out.is_file()
    assert written.summary["by_source"] == {"agent": 0, "seed": 2, "weak_feedback": 0, "weak_confidence": 1}
    with written.out.open(newline="") as handle:
        assert ("is my parcel on its way", "orders", "weak_confidence") in {
            (r["text"], r["intent"], r["source"]) for r in csv.DictReader(handle)}
    assert written.to_dict() == {**written.summary, "out": str(written.out),
                                 "held_out_out": str(written.held_out_out)}

    stricter = build_training_set(empty_settings, empty_settings.data_dir / "strict.csv", floor=0.99)
    assert stricter.summary["by_source"]["weak_confidence"] == 0
    assert stricter.held_out_out == empty_settings.data_dir / "strict.held_out.csv"
    with pytest.raises(ValueError):
        build_training_set(empty_settings, floor=1.5)


def test_without_seed_data_nothing_is_written(empty_settings: Settings) -> None:
    with pytest.raises(SeedDataMissing, match="helpline setup"):
        build_training_set(empty_settings, empty_settings.data_dir / "train.csv")
    assert not (empty_settings.data_dir / "train.csv").exists()


def test_held_out_path_sits_beside_the_training_set() -> None:
    assert held_out_path(Path("sets/train.csv")) == Path("sets/train.held_out.csv")
    assert held_out_path(Path("sets/train")) == Path("sets/train.held_out.csv")
