"""Erasure requests in-process on real SQLite and PostgreSQL: the database rows, the training sets `dataset
build` wrote and the model reports all lose the conversation; unknown ids erase nothing; twice is harmless."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.services.datasets import build_training_set
from bot.services.erasure import ALREADY_ERASED, ERASED, UnknownConversations, erase_conversations
from bot.services.erasure_files import ELSEWHERE
from bot.settings import Settings
from bot.store.erasure import erasure_of
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from tests.conversations import Filled, fill_conversation, table_counts
from training.data import load_examples
from training.report import Evaluation, write_report


@pytest.fixture
def privacy_settings(store: TranscriptStore, tmp_path: Path) -> Settings:
    """A data dir of its own with seed data, over the test's database."""
    settings = Settings(data_dir=tmp_path / "var", database_url=store.engine.url.render_as_string(hide_password=False))
    settings.seed_dir.mkdir(parents=True)
    (settings.seed_dir / "intents.csv").write_text("text,intent\nwhere is my order,orders\nhi,greeting\n")
    return settings


@pytest.fixture
def two(store: TranscriptStore) -> tuple[Filled, Filled]:
    agent = Accounts(store).add_agent("maya", "correct horse battery").id
    return fill_conversation(store, agent, "anna"), fill_conversation(store, agent, "ben")


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_an_unknown_id_is_named_and_nothing_is_erased(
        privacy_settings: Settings, store: TranscriptStore, two: tuple[Filled, Filled]) -> None:
    anna, _ = two
    before = table_counts(store)
    named = r"no such conversation: nope, 0ff1ce \(nothing was erased\)"
    with pytest.raises(UnknownConversations, match=named) as error:
        erase_conversations(privacy_settings, [anna.id, "nope", "0ff1ce"], "cli", store)
    assert error.value.conversation_ids == ["nope", "0ff1ce"]
    assert table_counts(store) == before
    store.authenticate(anna.id, anna.token)


def test_erasing_twice_says_it_was_done_before(
        privacy_settings: Settings, store: TranscriptStore, two: tuple[Filled, Filled]) -> None:
    anna, ben = two
    first = erase_conversations(privacy_settings, [anna.id, anna.id], "admin:root", store)
    assert [(o.status, o.record.conversation_id) for o in first.conversations] == [(ERASED, anna.id)]
    assert first.erased_now == [anna.id] and first.conversations[0].record.counts["messages"] == 6
    counts = table_counts(store)

    again = erase_conversations(privacy_settings, [anna.id, ben.id], "cli", store)

    assert [o.status for o in again.conversations] == [ALREADY_ERASED, ERASED]
    assert again.conversations[0].record == erasure_of(store, anna.id) == first.conversations[0].record
    assert again.erased_now == [ben.id]
    assert table_counts(store)["erasures"] == counts["erasures"] + 1
    assert again.to_dict()["conversations"][0] == {"status": "already_erased",
                                                   **first.conversations[0].record.to_dict()}


def test_the_training_sets_and_reports_lose_exactly_the_erased_rows(
        privacy_settings: Settings, store: TranscriptStore, two: tuple[Filled, Filled], tmp_path: Path) -> None:
    anna, ben = two
    default = build_training_set(privacy_settings)
    elsewhere = build_training_set(privacy_settings, tmp_path / "exports" / "train.csv")
    legacy = privacy_settings.data_dir / "datasets" / "old.csv"  # written before rows named their conversation
    legacy.write_text(f"text,intent\n{anna.texts[0]},double_charge\n{ben.texts[0]},double_charge\n")
    sets = [default.out, default.held_out_out, elsewhere.out, elsewhere.held_out_out]
    before = {path: rows_of(path) for path in sets}
    annas = {path: [r for r in rows if r["conversation_id"] == anna.id] for path, rows in before.items()}
    assert sum(map(len, annas.values())) == 2  # her labelled message, in the set or held out, in each build
    assert any(r["conversation_id"] == ben.id for rows in before.values() for r in rows)
    report = privacy_settings.models_dir / "20240101-000000-abcd" / "report"
    top = [{"gold": "double_charge", "predicted": "refunds", "count": 2, "examples": [anna.texts[0], ben.texts[0]]}]
    per_intent = {"f1": 0.5, "precision": 0.5, "recall": 0.5, "support": 1}
    evaluation = Evaluation({"n": 2, "per_intent": {"double_charge": per_intent, "refunds": per_intent}},
                            ["double_charge", "refunds"], [[0, 2], [0, 0]], top)
    page = write_report(report, "v", evaluation, None, {"promote": False}, {})

    erased = erase_conversations(privacy_settings, [anna.id], "cli", store)

    for path in sets:
        assert rows_of(path) == [r for r in before[path] if r["conversation_id"] != anna.id], path
        if rows_of(path):
            load_examples(path)  # what `helpline train` and `retrain --data` read still reads
    assert legacy.read_text().splitlines() == ["text,intent", f"{ben.texts[0]},double_charge"]
    assert anna.texts[0] not in page.read_text() and ben.texts[0] in page.read_text()
    assert erased.files.to_dict() == {"training_rows": 3, "report_examples": 1, "files": 4}
    assert (privacy_settings.data_dir / "datasets" / ELSEWHERE).read_text().count("exports") == 2
