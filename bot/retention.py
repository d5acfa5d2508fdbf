"""The server's retention schedule: the retention pass (``bot.services.retention``) every
``HELPLINE_RETENTION_INTERVAL_SECONDS``, in a worker thread, from start-up until the server stops."""

from __future__ import annotations

import asyncio
import logging
import threading
from functools import partial

import anyio.to_thread

from bot.conversations.events import EventBus, announce_erased
from bot.services.retention import RetentionReport, purge_expired
from bot.settings import Settings
from bot.store.transcripts import TranscriptStore

log = logging.getLogger(__name__)


class RetentionSchedule:
    """Runs the retention pass now and then every interval; a failed pass is logged and tried at the next."""

    def __init__(self, settings: Settings, store: TranscriptStore, bus: EventBus) -> None:
        self.settings = settings
        self.store = store
        self.bus = bus
        self._stop = threading.Event()  # read by the pass between conversations

    @property
    def enabled(self) -> bool:
        return bool(self.settings.retention_days or self.settings.login_retention_days)

    async def run(self) -> None:
        """Pass after pass until cancelled (``stop`` first, so a running pass ends after its conversation)."""
        while not self._stop.is_set():
            await self.run_once()
            await asyncio.sleep(self.settings.retention_interval_seconds)

    def stop(self) -> None:
        self._stop.set()

    async def run_once(self) -> RetentionReport | None:
        """One pass; None when it failed (a database error must not stop the server or the schedule)."""
        try:
            report = await anyio.to_thread.run_sync(
                partial(purge_expired, self.settings, self.store, stop=self._stop))
        except Exception as exc:
            # the driver's message, not SQLAlchemy's, which would add the statement's parameters
            log.error("retention pass failed, trying again in %.0f s: %s: %s",
                      self.settings.retention_interval_seconds, type(exc).__name__, getattr(exc, "orig", exc))
            return None
        if report.removed_anything:
            # counts only: what was removed is gone, and logs are not the place to keep it
            log.info("retention: erased %d conversations idle since %s, deleted %s; %d training-set rows and "
                     "%d report examples removed", report.conversations, report.transcripts_before,
                     ", ".join(f"{count} {table}" for table, count in report.logins.items()) or "no login records",
                     report.files.training_rows, report.files.report_examples)
        if report.erased:
            try:
                await announce_erased(self.bus, list(report.erased))
            except Exception as exc:  # Redis away: the sockets still find the conversation gone
                log.warning("could not announce %d erased conversations: %s", len(report.erased), exc)
        return report
