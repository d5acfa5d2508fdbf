"""Erasing a conversation on real SQLite and real PostgreSQL: every row of it goes, nothing of another, and
the audit record keeps counts, never content."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bot.store.erasure import TABLES, erase_conversation, erased_since, erasure_of, erasures, existing
from bot.store.models import Base, Erasure, utcnow
from bot.store.transcripts import TranscriptStore, UnknownConversation
from bot.workspace.accounts import Accounts
from tests.conversations import fill_conversation, make_idle, table_counts


@pytest.fixture
def agent_id(store: TranscriptStore) -> int:
    return Accounts(store).add_agent("maya", "correct horse battery", display_name="Maya").id


def test_every_table_that_points_at_a_conversation_or_message_is_emptied_by_erasure() -> None:
    pointing = {table.name for table in Base.metadata.sorted_tables
                if any(fk.column.table.name in ("conversations", "messages") for fk in table.foreign_keys)}
    assert pointing  # a new table with such a key must join TABLES, or erasure would leave its rows behind
    assert pointing | {"conversations"} == set(TABLES)


def test_erasure_removes_every_row_of_the_conversation_and_nothing_else(store: TranscriptStore, agent_id: int) -> None:
    gone, kept = fill_conversation(store, agent_id, "anna"), fill_conversation(store, agent_id, "ben")
    before = table_counts(store)

    removed = store.write(partial(erase_conversation, conversation_id=gone.id, erased_by="admin:root"))

    assert removed is not None
    after = table_counts(store)
    counts = removed.record.counts
    assert all(counts[table] > 0 for table in TABLES), counts  # the fixture left a row in every one
    for table, rows in before.items():
        expected = rows - counts.get(table, 0) + (1 if table == "erasures" else 0)
        assert after[table] == expected, (table, rows, after[table])
    # what is left is exactly the other conversation, whole
    assert existing(store, [gone.id, kept.id]) == {kept.id}
    history = [m["text"] for m in store.history(kept.id)]
    assert set(kept.texts) <= set(history) | {"ben: VIP, call back", "ben@example.com"}  # a note, a sender name
    with store.session() as session:
        dumped = " ".join(str(row) for table in Base.metadata.sorted_tables
                          for row in session.execute(select(table)).all())
    assert not [t for t in gone.texts if t in dumped]
    assert all(t in dumped for t in kept.texts)
    with pytest.raises(UnknownConversation):
        store.authenticate(gone.id, gone.token)  # the customer's token resumes nothing any more
    store.authenticate(kept.id, kept.token)


def test_the_record_holds_who_when_and_counts_never_content(store: TranscriptStore, agent_id: int) -> None:
    gone = fill_conversation(store, agent_id, "anna")
    store.write(partial(erase_conversation, conversation_id=gone.id, erased_by="cli"))

    record = erasure_of(store, gone.id)
    assert record is not None and record.erased_by == "cli" and record.counts["messages"] == 6
    assert abs((record.erased_at - utcnow()).total_seconds()) < 60
    with store.session() as session:
        raw = session.execute(text("SELECT * FROM erasures")).all()
    stored = json.dumps([list(map(str, row)) for row in raw])
    assert gone.id in stored and not [t for t in gone.texts if t in stored] and "anna" not in stored
    assert [r.conversation_id for r in erasures(store)] == [gone.id]
    assert erased_since(store, utcnow() - timedelta(minutes=1)) == {gone.id}
    assert erased_since(store, utcnow() + timedelta(minutes=1)) == set()


def test_erasing_again_or_an_unknown_id_removes_nothing(store: TranscriptStore, agent_id: int) -> None:
    gone = fill_conversation(store, agent_id, "anna")
    assert store.write(partial(erase_conversation, conversation_id=gone.id, erased_by="cli")) is not None
    counts = table_counts(store)
    assert store.write(partial(erase_conversation, conversation_id=gone.id, erased_by="cli")) is None
    assert store.write(partial(erase_conversation, conversation_id="nope", erased_by="cli")) is None
    assert table_counts(store) == counts
    with store.session() as session:
        assert len(session.scalars(select(Erasure)).all()) == 1


def test_retention_spares_a_conversation_active_since_its_cutoff(store: TranscriptStore, agent_id: int) -> None:
    conversation = fill_conversation(store, agent_id, "anna")
    cutoff = utcnow() - timedelta(days=30)
    assert store.write(partial(erase_conversation, conversation_id=conversation.id, erased_by="retention",
                               idle_before=cutoff)) is None
    assert existing(store, [conversation.id]) == {conversation.id}
    make_idle(store, conversation.id, utcnow() - timedelta(days=31))
    assert store.write(partial(erase_conversation, conversation_id=conversation.id, erased_by="retention",
                               idle_before=cutoff)) is not None


def test_a_failed_erasure_leaves_everything_in_place(store: TranscriptStore, agent_id: int) -> None:
    conversation = fill_conversation(store, agent_id, "anna")
    # data setup: a record of this id already there, so the erasure's last statement fails after all its deletes
    with store.session() as session, session.begin():
        session.add(Erasure(conversation_id=conversation.id, erased_by="earlier", counts={}))
    before = table_counts(store)
    with pytest.raises(IntegrityError):
        store.write(partial(erase_conversation, conversation_id=conversation.id, erased_by="cli"))
    assert table_counts(store) == before
    store.authenticate(conversation.id, conversation.token)
    assert store.history(conversation.id)[0]["text"] == conversation.texts[0]


def test_the_migration_creates_the_erasures_table_the_model_describes(store: TranscriptStore) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    about = [d for d in differences if "erasures" in repr(d)]
    assert about == []
