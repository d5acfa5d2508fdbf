"""Rasa channels' senders on real SQLite and real PostgreSQL: one conversation per name, kept, raced, erased."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store.erasure import erase_conversation
from bot.store.models import Base
from bot.store.senders import conversation_of, open_for
from bot.store.transcripts import TranscriptStore


def test_a_name_opens_one_conversation_and_finds_it_again(store: TranscriptStore) -> None:
    assert conversation_of(store, "rest", "anna") is None
    opened, new = open_for(store, "rest", "anna")
    assert new and store.state(opened) == "bot"
    assert conversation_of(store, "rest", "anna") == opened
    assert open_for(store, "rest", "anna") == (opened, False)
    # the same name on the other channel is another client's: another conversation
    other, _ = open_for(store, "socketio", "anna")
    assert other != opened


def test_names_racing_for_one_conversation_get_the_same_one(store: TranscriptStore) -> None:
    with ThreadPoolExecutor(4) as pool:
        opened = list(pool.map(lambda _: open_for(store, "rest", "ben"), range(4)))
    assert len({conversation for conversation, _ in opened}) == 1
    assert [new for _, new in opened].count(True) == 1
    with store.session() as session:  # the losers' conversations were rolled back with their names
        assert len(session.execute(Base.metadata.tables["conversations"].select()).all()) == 1


def test_an_erased_conversation_takes_its_name_with_it(store: TranscriptStore) -> None:
    first, _ = open_for(store, "socketio", "c4f1")
    removed = store.write(partial(erase_conversation, conversation_id=first, erased_by="cli"))
    assert removed is not None and removed.record.counts["channel_senders"] == 1
    assert conversation_of(store, "socketio", "c4f1") is None
    again, new = open_for(store, "socketio", "c4f1")
    assert new and again != first


def test_the_migration_creates_the_table_the_model_describes(store: TranscriptStore) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "channel_senders" in repr(d)] == []
