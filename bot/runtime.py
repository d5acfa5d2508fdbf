"""Assemble the bot from settings: transcript store, encoder, FAQ retriever, classifier, engine."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import anyio.to_thread

from bot.engine import DialogueEngine, EngineOptions, Models
from bot.events import EventBus, make_bus
from bot.handoff import HandoffService
from bot.reloader import Reloader
from bot.replies import Replies
from bot.settings import Settings
from bot.store.db import make_engine, migrate
from bot.store.transcripts import TranscriptStore
from retrieval.encoder import SentenceEncoder
from retrieval.store import FaqStore
from training.model import IntentClassifier, ModelNotFound
from training.registry import ModelRegistry

log = logging.getLogger(__name__)
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub


def open_store(settings: Settings) -> TranscriptStore:
    """Connect to the transcript database and bring its schema up to date."""
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return TranscriptStore(engine)


def classifier_path(settings: Settings) -> Path:
    """The model folder to serve: the configured one, else the registry's current version."""
    if settings.model_dir is not None:
        return settings.model_dir
    current = ModelRegistry(settings.models_dir).current()
    if current is None:
        raise ModelNotFound(f"no trained model in {settings.models_dir}; run `helpline train` or `helpline setup`")
    return current


def load_models(settings: Settings) -> Models:
    encoder = SentenceEncoder(settings.encoder_path, device=settings.device)
    retriever = FaqStore(settings.faq_dir, encoder).load()
    classifier = IntentClassifier.load(classifier_path(settings), device=settings.device)
    return Models(classifier=classifier, retriever=retriever)


def engine_options(settings: Settings) -> EngineOptions:
    return EngineOptions(
        faq_min_score=settings.faq_min_score,
        suggestions=settings.suggestions,
        context_turns=settings.context_turns,
        low_confidence=settings.low_confidence,
        redact_kinds=settings.redact_log_kinds,
        redact_patterns=tuple(settings.redact_patterns),
    )


def build_engine(settings: Settings, store: TranscriptStore | None = None) -> DialogueEngine:
    """A ready engine, loaded synchronously (for the CLI and tests)."""
    return DialogueEngine(
        load_models(settings),
        store or open_store(settings),
        Replies.load(settings.data_dir / "company.json"),
        engine_options(settings),
    )


class Runtime:
    """The server's bot, loaded in the background so the socket and health check answer at once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: TranscriptStore | None = None
        self.engine: DialogueEngine | None = None
        self.handoff: HandoffService | None = None
        self.bus: EventBus = make_bus(settings.redis_url)
        self.error: str | None = None
        self.reloader = Reloader(self)  # swaps in promoted models and changed FAQs while serving
        self._loaded = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None

    def faq_question(self, faq_id: str) -> str | None:
        """The served FAQ's question for an entry id (None before the FAQ loads, or if it is gone)."""
        entry = self.engine.models.retriever.entry(faq_id) if self.engine else None
        return entry.question if entry else None

    async def start(self) -> None:
        try:
            self.store = await anyio.to_thread.run_sync(open_store, self.settings)
            self.handoff = HandoffService(self.store, self.bus, self.faq_question)
            self.engine = await anyio.to_thread.run_sync(build_engine, self.settings, self.store)
            log.info("bot ready: model %s", self.engine.models.classifier.version)
            self._watch = asyncio.create_task(self.reloader.run())
        except Exception as exc:  # a bad model or data path must surface, not hang the server
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("bot failed to load: %s", self.error)
        finally:
            self._loaded.set()

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        await self.bus.close()

    async def reload_faq(self) -> str:
        """Serve the stored FAQ now (after an entry was added) and tell the other replicas; its version."""
        return await self.reloader.reload_faq()

    async def wait_ready(self, timeout: float) -> DialogueEngine | None:
        """The engine once loaded (None if loading failed or took longer than ``timeout``)."""
        try:
            await asyncio.wait_for(self._loaded.wait(), timeout)
        except TimeoutError:
            return None
        return self.engine
