"""Assemble the bot from settings: transcript store, models, engine, handoff, and the reloader that swaps models."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import anyio.to_thread

from bot.conversations.events import EventBus, make_bus
from bot.conversations.handoff import HandoffService
from bot.inference.models import load_models, start_worker
from bot.learning.reloader import Reloader
from bot.rasa.assistant import load_assistant
from bot.retention import RetentionSchedule
from bot.services.database import open_store
from bot.settings import Settings
from bot.store.transcripts import TranscriptStore
from bot.turn.engine import DialogueEngine
from bot.turn.replies import Replies
from core.batching import BatchWorker

log = logging.getLogger(__name__)
JOURNAL_RETRY_S = 1.0  # how often a server with journaled writes tries the database again


def build_engine(settings: Settings, store: TranscriptStore | None = None,
                 worker: BatchWorker | None = None) -> DialogueEngine:
    """A ready engine, loaded synchronously; its models run on ``worker`` when given (the server's)."""
    return DialogueEngine(
        load_models(settings, worker),
        store or open_store(settings),
        Replies.load(settings.data_dir / "company.json"),
        settings,
    )


class Runtime:
    """The server's bot, loaded in the background so the socket and health check answer at once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: TranscriptStore | None = None
        self.engine: DialogueEngine | None = None
        self.handoff: HandoffService | None = None
        self.worker: BatchWorker | None = None  # runs every model call, micro-batched across conversations
        self.reloader: Reloader | None = None  # swaps in promoted models and changed FAQs, once the bot is loaded
        self.bus: EventBus = make_bus(settings.redis_url, settings.event_queue)
        self.error: str | None = None
        self._loaded = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None
        self._checks: list[asyncio.Task[None]] = []  # start-up checks that must not hold up serving
        self._journal: asyncio.Task[None] | None = None  # replays the journal once the database is back
        self._stopping = False
        self.draining = asyncio.Event()  # set by SIGTERM: customer sockets finish their replies and close
        self.sockets = 0  # customer sockets with a conversation open
        self.retention: RetentionSchedule | None = None
        self._retention_task: asyncio.Task[None] | None = None

    @property
    def load_error(self) -> str | None:
        """Why the wanted model or FAQ is not serving (None when all is served, or before the bot loads)."""
        return self.reloader.load_error if self.reloader else None

    def faq_question(self, faq_id: str) -> str | None:
        """The served FAQ's question for an entry id (None before the FAQ loads, or if it is gone)."""
        entry = self.engine.models.retriever.entry(faq_id) if self.engine else None
        return entry.question if entry else None

    async def start(self) -> None:
        try:
            self.store = await anyio.to_thread.run_sync(open_store, self.settings)
            self.store.start_spool()  # concurrent turns' writes share transactions (group commit)
            self.store.open_journal(self.settings.journal_file)  # where writes wait out an outage
            self._journal = asyncio.create_task(self._replay_journal())
            self.handoff = HandoffService(self.store, self.bus, self.faq_question)
            self._start_retention(self.store)  # needs the database only: it runs even if the bot fails to load
            self.worker = start_worker(self.settings)
            self.engine = await anyio.to_thread.run_sync(build_engine, self.settings, self.store, self.worker)
            self.engine.threads = anyio.CapacityLimiter(self.settings.customer_threads)
            assistant = self.engine.assistant = await anyio.to_thread.run_sync(load_assistant, self.settings)
            if assistant is not None:  # the company's Rasa side, when it has a domain
                self._checks.append(asyncio.create_task(assistant.report_missing_actions()))
            log.info("bot ready: model %s", self.engine.models.classifier.version)
            self.reloader = Reloader(self.settings, self.store, self.bus, self.engine)
            self._watch = asyncio.create_task(self.reloader.run())
        except Exception as exc:  # a bad model or data path must surface, not hang the server
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("bot failed to load: %s", self.error)
        finally:
            self._loaded.set()

    def _start_retention(self, store: TranscriptStore) -> None:
        schedule = RetentionSchedule(self.settings, store, self.bus)
        if schedule.enabled:
            self.retention = schedule
            self._retention_task = asyncio.create_task(schedule.run())

    async def _replay_journal(self) -> None:
        """Write what waits in the journal as soon as the database takes it again, then tell the agents."""
        while not self._stopping:  # a flag, not only a cancel: a thread's wait can swallow one
            await asyncio.sleep(JOURNAL_RETRY_S)
            store = self.store
            if store is None or store.journal is None or not store.journal.waiting:
                continue
            try:
                written = await anyio.to_thread.run_sync(store.flush_journal)
            except Exception:
                log.exception("replaying the journal failed; trying again")
                continue
            if written:
                log.info("the database is back: %d journaled writes stored (%d still waiting)", len(written),
                         store.journal.waiting)
            for conversation_id in dict.fromkeys(written):
                if self.handoff is not None:
                    with contextlib.suppress(Exception):  # the consoles catch up when they next load the inbox
                        await self.handoff.refresh(conversation_id)

    async def drain(self, grace: float) -> None:
        """Ask every customer socket to finish and close (reconnecting elsewhere); wait up to ``grace`` s."""
        self.draining.set()
        log.info("draining %d customer sockets (up to %.0f s)", self.sockets, grace)
        deadline = asyncio.get_running_loop().time() + grace
        while self.sockets and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        if self.sockets:
            log.warning("%d customer sockets still open after the %.0f s grace period", self.sockets, grace)

    async def stop(self) -> None:
        self._stopping = True
        if self._journal is not None:
            self._journal.cancel()
            await asyncio.gather(self._journal, return_exceptions=True)
        if self.retention is not None and self._retention_task is not None:
            # a pass under way ends after its conversation (a cancel alone would wait for the whole pass); awaited
            # below, after the reloader is cancelled, so nothing here yields to the loop before that cancel
            self.retention.stop()
            self._retention_task.cancel()
        for check in self._checks:
            check.cancel()
        await asyncio.gather(*self._checks, return_exceptions=True)
        if self.reloader is not None:
            self.reloader.stop()
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        if self._retention_task is not None:
            await asyncio.gather(self._retention_task, return_exceptions=True)
        await self.bus.close()
        if self.worker is not None:
            await anyio.to_thread.run_sync(self.worker.close)
        if self.store is not None:
            await anyio.to_thread.run_sync(self.store.stop_spool)

    async def reload_faq(self) -> str:
        """Serve the stored FAQ now (after an entry was added) and tell the other replicas; its version."""
        if self.reloader is None:
            raise RuntimeError("the bot is not loaded yet")
        return await self.reloader.reload_faq()

    async def wait_ready(self, timeout: float) -> DialogueEngine | None:
        """The engine once loaded (None if loading failed or took longer than ``timeout``)."""
        try:
            await asyncio.wait_for(self._loaded.wait(), timeout)
        except TimeoutError:
            return None
        return self.engine
