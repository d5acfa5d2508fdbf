"""The server's retention schedule on a real database: it erases and announces, survives a database error and
tries again at the next pass, and stops cleanly in the middle of its wait."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.conversations.events import AGENTS, ERASED, LocalBus
from bot.retention import RetentionSchedule
from bot.settings import Settings
from bot.store.erasure import existing
from bot.store.models import LoginAttempt, utcnow
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from tests.conversations import fill_conversation, make_idle


def test_a_pass_erases_announces_and_logs_counts_only(
        store: TranscriptStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    agent = Accounts(store).add_agent("maya", "correct horse battery").id
    old = fill_conversation(store, agent, "anna")
    make_idle(store, old.id, utcnow() - timedelta(days=40))
    bus = LocalBus()
    schedule = RetentionSchedule(Settings(data_dir=tmp_path, retention_days=30), store, bus)

    async def scenario() -> dict[str, str]:
        async with bus.subscribe(AGENTS) as events:
            report = await schedule.run_once()
            assert report is not None and report.conversations == 1
            return await asyncio.wait_for(anext(events), 10)

    with caplog.at_level(logging.INFO, logger="bot.retention"):
        event = asyncio.run(scenario())
    assert event == {"type": ERASED, "conversation_id": old.id}
    assert existing(store, [old.id]) == set()
    assert "erased 1 conversations" in caplog.text
    assert old.id not in caplog.text and not [t for t in old.texts if t in caplog.text]


def test_a_database_error_is_logged_and_the_next_pass_runs(
        store: TranscriptStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    schedule = RetentionSchedule(Settings(data_dir=tmp_path, login_retention_days=1), store, LocalBus())
    with store.session() as session, session.begin():
        session.execute(text("DROP TABLE login_attempts"))  # the database breaks under the server

    with caplog.at_level(logging.ERROR, logger="bot.retention"):
        assert asyncio.run(schedule.run_once()) is None
    assert "retention pass failed, trying again in 3600 s" in caplog.text

    LoginAttempt.__table__.create(store.engine)  # type: ignore[attr-defined]
    repaired = asyncio.run(schedule.run_once())
    assert repaired is not None and repaired.logins == {"login_attempts": 0, "agent_sessions": 0}


def test_stopping_ends_the_schedule_during_its_wait(store: TranscriptStore, tmp_path: Path) -> None:
    schedule = RetentionSchedule(Settings(data_dir=tmp_path, login_retention_days=1), store, LocalBus())
    assert schedule.enabled
    assert not RetentionSchedule(Settings(data_dir=tmp_path, login_retention_days=""), store, LocalBus()).enabled
    with store.session() as session, session.begin():
        session.add(LoginAttempt(name="old", ok=False, created_at=utcnow() - timedelta(days=2)))

    def attempts() -> int:
        with store.session() as session:
            return len(session.scalars(select(LoginAttempt)).all())

    async def scenario() -> asyncio.Task[None]:
        task = asyncio.create_task(schedule.run())
        deadline = asyncio.get_running_loop().time() + 30
        while await asyncio.to_thread(attempts) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)  # the first pass runs at once
        assert not task.done()  # and then the schedule waits an hour for the next
        schedule.stop()
        task.cancel()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 10)
        return task

    task = asyncio.run(scenario())
    assert attempts() == 0 and task.cancelled()
