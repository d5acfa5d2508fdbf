"""The transcript store on real SQLite and real PostgreSQL: every store-level test runs on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store.db import make_engine, migrate
from bot.store.transcripts import TranscriptStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TranscriptStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'nested' / 'helpline.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)  # idempotent: a second start-up changes nothing
    yield TranscriptStore(engine)
    engine.dispose()
