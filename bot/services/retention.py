"""The retention pass: conversations idle for ``HELPLINE_RETENTION_DAYS`` are erased as an erasure request
would erase them (recorded as by "retention"), and login records older than ``HELPLINE_LOGIN_RETENTION_DAYS``
are deleted. A server runs it on a schedule (``bot.retention``); `helpline customers purge` runs it once.

Every step is an idempotent delete of what is old at that moment, so replicas sharing a database may all run
it: a conversation two of them reach at once is erased by the first, and the second finds it gone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.services.database import transcript_store
from bot.services.erasure_files import FilesScrubbed, scrub_files
from bot.settings import Settings
from bot.store.erasure import erase_conversation
from bot.store.models import iso, utcnow
from bot.store.retention import count_idle_conversations, count_old_logins, delete_old_logins, idle_conversations
from bot.store.transcripts import TranscriptStore

RETENTION = "retention"  # who an erasure by retention is recorded as
BATCH = 100  # conversations read per query; each is still erased in a transaction of its own


@dataclass(frozen=True)
class RetentionReport:
    """What one pass removed (or, in a dry run, would remove): counts, never content."""

    dry_run: bool
    transcripts_before: datetime | None  # conversations idle since before this went (None: kept forever)
    logins_before: datetime | None
    conversations: int = 0
    logins: dict[str, int] = field(default_factory=dict)  # rows per table
    files: FilesScrubbed = field(default_factory=FilesScrubbed)
    erased: tuple[str, ...] = ()  # the ids, for telling open consoles and widgets (not printed)

    @property
    def removed_anything(self) -> bool:
        return bool(self.conversations or any(self.logins.values()))

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "transcripts_before": iso(self.transcripts_before),
                "logins_before": iso(self.logins_before), "conversations": self.conversations,
                "logins": dict(self.logins), "files": self.files.to_dict()}


def cutoffs(settings: Settings, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(transcripts idle since before, logins older than), each None when that retention is off."""
    def days_ago(days: int | None) -> datetime | None:
        return now - timedelta(days=days) if days else None

    return days_ago(settings.retention_days), days_ago(settings.login_retention_days)


def purge_expired(settings: Settings, store: TranscriptStore | None = None, *, dry_run: bool = False,
                  now: datetime | None = None, stop: threading.Event | None = None) -> RetentionReport:
    """One retention pass at ``now`` (default: now). ``dry_run`` counts without deleting; ``stop``, once set,
    ends the pass after the conversation being erased (a server shutting down)."""
    if store is None:
        with transcript_store(settings) as own:
            return purge_expired(settings, own, dry_run=dry_run, now=now, stop=stop)
    transcripts_before, logins_before = cutoffs(settings, now or utcnow())
    if dry_run:
        return RetentionReport(
            True, transcripts_before, logins_before,
            count_idle_conversations(store, transcripts_before) if transcripts_before else 0,
            count_old_logins(store, logins_before) if logins_before else {},
        )
    erased, texts = _erase_idle(store, transcripts_before, stop) if transcripts_before else ([], [])
    logins = store.write(partial(delete_old_logins, before=logins_before)) if logins_before else {}
    files = scrub_files(settings, erased, texts)
    return RetentionReport(False, transcripts_before, logins_before, len(erased), logins, files, tuple(erased))


def _erase_idle(store: TranscriptStore, idle_before: datetime, stop: threading.Event | None
                ) -> tuple[list[str], list[str]]:
    """Erase the conversations idle since before ``idle_before``: (their ids, their customers' texts)."""
    erased: list[str] = []
    texts: list[str] = []
    while not (stop and stop.is_set()):
        batch = idle_conversations(store, idle_before, BATCH)
        progress = False
        for conversation_id in batch:
            if stop and stop.is_set():
                break
            # checked again under the conversation's lock: a customer who just came back keeps it
            removed = store.write(partial(erase_conversation, conversation_id=conversation_id,
                                          erased_by=RETENTION, idle_before=idle_before))
            if removed is not None:
                erased.append(conversation_id)
                texts += removed.customer_texts
                progress = True
        if len(batch) < BATCH or not progress:  # the rest woke up or went meanwhile: the next pass sees them
            break
    return erased, texts
