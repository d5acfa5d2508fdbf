"""Group commit on a real database: many writers share transactions, each write still all-or-nothing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.services.database import open_store
from bot.settings import Settings
from bot.store.models import Conversation, Message
from bot.store.transcripts import BotReplyRecord, TranscriptStore, UnknownReply


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TranscriptStore]:
    opened = open_store(Settings(data_dir=tmp_path))
    opened.start_spool()
    yield opened
    opened.stop_spool()
    opened.engine.dispose()


def count(store: TranscriptStore, role: str) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(Message).where(Message.role == role)) or 0)


def hold_the_writer(store: TranscriptStore) -> threading.Event:
    """Queue a job that blocks the writer until the returned event is set, so later writes form one batch."""
    release, holding = threading.Event(), threading.Event()

    def wait(_session: Session) -> None:
        holding.set()
        release.wait(10)

    threading.Thread(target=store.write, args=(wait,), daemon=True).start()
    assert holding.wait(10)
    return release


def test_concurrent_writers_each_get_their_own_row_and_share_commits(store: TranscriptStore) -> None:
    conversations = [store.open_conversation()[0] for _ in range(20)]
    spool = store.spool
    assert spool is not None
    batches_before = spool.worker.batches
    with ThreadPoolExecutor(20) as pool:
        ids = list(pool.map(lambda n: store.log_customer(conversations[n % 20], f"question {n}"), range(200)))
    assert len(set(ids)) == 200
    with store.session() as session:
        texts = {row.id: row.text for row in session.execute(select(Message.id, Message.text))}
    assert [texts[i] for i in ids] == [f"question {n}" for n in range(200)]  # each caller's own id
    assert spool.worker.batches - batches_before < 200  # they shared transactions


def test_a_failing_write_fails_alone_and_its_batch_mates_are_stored(store: TranscriptStore) -> None:
    conversation, _ = store.open_conversation()
    release = hold_the_writer(store)
    with ThreadPoolExecutor(4) as pool:
        good = [pool.submit(store.log_customer, conversation, f"fine {n}") for n in range(3)]
        bad = pool.submit(store.record_feedback, conversation, "no-such-reply", "up")
        while len(store.spool.worker.lanes[0].pending) < 4:  # type: ignore[union-attr]
            threading.Event().wait(0.001)  # until all four are queued behind the held writer
        release.set()
        assert all(future.result(10) > 0 for future in good)
        with pytest.raises(UnknownReply):
            bad.result(10)
    assert count(store, "customer") == 3


def test_a_batch_that_cannot_commit_stores_nothing_of_a_turn(store: TranscriptStore) -> None:
    conversation, _ = store.open_conversation()
    with store.engine.begin() as connection:  # the database itself refuses bot rows from now on
        connection.execute(text(
            "CREATE TRIGGER no_bot_rows BEFORE INSERT ON messages WHEN NEW.role = 'bot' "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        ))
    reply = BotReplyRecord("r1", "It is on its way.", "parcel_status", 0.9, route="faq")
    with pytest.raises(Exception, match="disk full"):
        store.log_turn(conversation, "where is my parcel", None, reply, then_state="waiting")
    assert count(store, "bot") == 0 and count(store, "customer") == 0  # the question went with its reply
    assert store.conversation_state(conversation).state == "bot"  # and so did the handoff
    with store.session() as session:
        assert session.get(Conversation, conversation).message_count == 0  # nor was the inbox counted


def test_a_write_that_fails_alone_is_its_callers_error_not_the_writers(store: TranscriptStore,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    conversation, _ = store.open_conversation()
    with caplog.at_level(logging.DEBUG), pytest.raises(UnknownReply):  # feedback on a reply that is not there
        store.record_feedback(conversation, "no-such-reply", "up")
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], caplog.text
