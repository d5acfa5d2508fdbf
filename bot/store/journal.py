"""A durable local journal for the customers' writes while the database is out.

When the transcript database cannot be reached, a new conversation, a customer's message, a whole answered
turn or a rating is appended here — a SQLite file in the server's data dir, committed to disk before the
customer is answered — and the customer is answered as usual. Once the database answers again the server
replays the journal in order, each entry in its own transaction together with its key in
``journal_applied``, so an entry replayed twice (a crash between the database's commit and the journal's) is
applied once. While anything waits here, new writes queue behind it, so a conversation's messages are stored
in the order they were said. An entry the database refuses for good (not an outage: bad data) is set aside
in the journal's ``failed`` table and logged, so it never blocks the ones after it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, kind TEXT NOT NULL, conversation_id TEXT NOT NULL,
    payload TEXT NOT NULL, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS entries_conversation ON entries (conversation_id);
CREATE TABLE IF NOT EXISTS failed (
    seq INTEGER PRIMARY KEY, key TEXT NOT NULL, kind TEXT NOT NULL, conversation_id TEXT NOT NULL,
    payload TEXT NOT NULL, created_at REAL NOT NULL, error TEXT NOT NULL, failed_at REAL NOT NULL);
"""


@dataclass(frozen=True)
class Entry:
    """One write that waits for the database."""

    seq: int
    key: str
    kind: str  # conversation | customer | turn | feedback
    conversation_id: str
    payload: dict[str, Any]


class Journal:
    """The journal file of one server; safe to use from any thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # on disk before the customer hears back
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self.waiting = int(self._db.execute("SELECT count(*) FROM entries").fetchone()[0])  # a previous run's too

    def append(self, kind: str, conversation_id: str, payload: dict[str, Any]) -> None:
        """Keep one write until the database takes it."""
        with self._lock:
            self._db.execute(
                "INSERT INTO entries (key, kind, conversation_id, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                (uuid.uuid4().hex, kind, conversation_id, json.dumps(payload), time.time()))
            self.waiting += 1

    def holds(self, conversation_id: str) -> bool:
        """Whether writes of this conversation still wait here (so the database does not know all of it yet)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM entries WHERE conversation_id = ? LIMIT 1",
                                    (conversation_id,)).fetchone() is not None

    def oldest(self, limit: int = 100) -> list[Entry]:
        """The entries that wait, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT seq, key, kind, conversation_id, payload FROM entries ORDER BY seq "
                                    "LIMIT ?", (limit,)).fetchall()
        return [Entry(seq, key, kind, conversation, json.loads(payload))
                for seq, key, kind, conversation, payload in rows]

    def applied(self, entry: Entry) -> None:
        """The database has ``entry``: it leaves the journal."""
        with self._lock:
            self._db.execute("DELETE FROM entries WHERE seq = ?", (entry.seq,))
            self.waiting = max(0, self.waiting - 1)

    def refused(self, entry: Entry, error: Exception) -> None:
        """The database will never take ``entry``: set it aside (kept for an operator) so the rest goes on."""
        log.error("a journaled %s of conversation %s was refused by the database and set aside in %s: %s",
                  entry.kind, entry.conversation_id, self.path, error)
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO failed SELECT seq, key, kind, conversation_id, payload, created_at, ?, ? "
                             "FROM entries WHERE seq = ?", (repr(error), time.time(), entry.seq))
            self._db.execute("DELETE FROM entries WHERE seq = ?", (entry.seq,))
            self._db.execute("COMMIT")
            self.waiting = max(0, self.waiting - 1)

    def set_aside(self) -> int:
        """How many entries the database refused for good."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM failed").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
