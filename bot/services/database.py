"""The transcript database for one workflow: schema brought up to date, connections closed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bot.settings import Settings
from bot.store.db import make_engine, migrate
from bot.store.transcripts import TranscriptStore


def open_store(settings: Settings) -> TranscriptStore:
    """The store at ``HELPLINE_DATABASE_URL``, its schema brought up to date; the caller disposes of it."""
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return TranscriptStore(engine)


@contextmanager
def transcript_store(settings: Settings) -> Iterator[TranscriptStore]:
    """The store for one workflow, closed afterwards; loads no model, so a command using it starts at once."""
    store = open_store(settings)
    try:
        yield store
    finally:
        store.engine.dispose()
