"""Hot reload: notice a promoted model or a changed FAQ, load it beside the old one, swap in one assignment."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy import update

from bot.conversations.events import EventBus
from bot.inference.models import load_classifier, on_worker
from bot.learning import catalog
from bot.rasa.assistant import load_assistant
from bot.settings import Settings
from bot.store.models import ModelVersion, utcnow
from bot.store.transcripts import TranscriptStore
from retrieval.store import FaqRetriever, FaqStore
from training.registry import ModelRegistry

if TYPE_CHECKING:
    from bot.turn.engine import DialogueEngine

log = logging.getLogger(__name__)
RELOAD_CHANNEL = "reload"  # bus channel: "look now" (Redis carries it to every replica)


@dataclass(frozen=True)
class Wanted:
    """What the catalog and the FAQ store say should be served (None: nothing to say)."""

    model: str | None
    faq: str | None


def production_version(store: TranscriptStore, settings: Settings) -> str | None:
    """The model version to serve: pinned by ``HELPLINE_MODEL_DIR``, else the catalog's production version."""
    if settings.model_dir is not None:
        return settings.model_dir.name
    return catalog.production_version(store, ModelRegistry(settings.models_dir))


def record_load_error(store: TranscriptStore, version: str, error: str | None) -> None:
    """Store (or clear, with None) the load failure on the version's ``model_versions`` row, if it has one."""
    with store.session() as session, session.begin():
        session.execute(
            update(ModelVersion).where(ModelVersion.version == version)
            .values(load_error=error, load_error_at=utcnow() if error else None)
        )


async def announce(bus: EventBus, what: str) -> None:
    """Tell every replica (through the bus) to look for a new model or FAQ now."""
    try:
        await bus.publish(RELOAD_CHANNEL, {"type": "reload", "what": what})
    except Exception as exc:  # polling still covers a bus that is down
        log.warning("could not announce a %s reload: %s", what, exc)


def notify_replicas(settings: Settings, what: str = "model") -> None:
    """For commands run outside a server: publish a reload on Redis when configured (polling covers the rest)."""
    if not settings.redis_url:
        return
    from bot.conversations.events import RedisBus

    async def publish() -> None:
        bus = RedisBus(settings.redis_url or "")
        try:
            await bus.publish(RELOAD_CHANNEL, {"type": "reload", "what": what})
        finally:
            await bus.close()

    try:
        run_blocking(publish)
    except Exception as exc:
        log.warning("could not announce the %s reload on Redis: %s", what, exc)


def run_blocking(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion from synchronous code, even where this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(make())
        return
    with ThreadPoolExecutor(max_workers=1) as worker:  # a loop runs here (a notebook, a sync test client)
        worker.submit(lambda: asyncio.run(make())).result()


class Reloader:
    """Watches the catalog and the FAQ store for one engine and swaps ``engine.models`` when they change."""

    def __init__(self, settings: Settings, store: TranscriptStore, bus: EventBus, engine: DialogueEngine) -> None:
        self.settings = settings
        self.store = store
        self.bus = bus
        self.engine = engine
        self.wanted_version: str | None = None  # what the catalog says should serve
        self.model_error: str | None = None  # why the wanted model is not serving, until it is
        self.faq_error: str | None = None  # why the changed FAQ is not serving, until it is
        self._failed: Wanted = Wanted(None, None)  # versions that failed; not retried until asked or changed
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._forced = False
        self._stopped = False

    @property
    def load_error(self) -> str | None:
        """The current load failure (model, then FAQ), or None when everything wanted is served."""
        return self.model_error or self.faq_error

    async def run(self) -> None:
        """Check now, then every ``HELPLINE_RELOAD_SECONDS`` or at once when the bus says so, until cancelled."""
        listener = asyncio.create_task(self._listen())
        try:
            while not self._stopped:
                forced, self._forced = self._forced, False
                try:
                    await self.check(force=forced)
                except Exception:
                    log.exception("reload check failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.reload_seconds)
                self._wake.clear()
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    def stop(self) -> None:
        """End ``run`` at its next step. Cancelling it is not enough: a cancel that arrives while a check waits
        on a worker thread can be swallowed there, and the loop would then sleep a whole interval."""
        self._stopped = True
        self._wake.set()

    def trigger(self) -> None:
        """Look now, retrying versions that failed before (a folder may have been fixed)."""
        self._forced = True
        self._wake.set()

    async def check(self, force: bool = False) -> None:
        """Load and swap in whatever the catalog or FAQ store wants that is not served yet."""
        engine, store = self.engine, self.store
        async with self._lock:
            try:
                wanted = await anyio.to_thread.run_sync(self._read_wanted, store, engine)
            except Exception as exc:  # e.g. CURRENT names a folder that is gone: keep serving, say why
                self.model_error = f"catalog: {type(exc).__name__}: {exc}"
                log.error("could not read which model to serve: %s", exc)
                return
            self.wanted_version = wanted.model
            if wanted.model is None or wanted.model == engine.models.classifier.version:
                self.model_error = None
            elif force or wanted.model != self._failed.model:
                await self._load_classifier(engine, store, wanted.model)
            if wanted.faq is None or wanted.faq == engine.models.retriever.version:
                self.faq_error = None
            elif force or wanted.faq != self._failed.faq:
                await self._load_faq(engine, wanted.faq)

    async def reload_faq(self) -> str:
        """Load the stored FAQ now, swap it in and tell the other replicas; returns the served FAQ version."""
        engine = self.engine
        async with self._lock:
            retriever = await anyio.to_thread.run_sync(self._faq_store(engine).load)
            self._swap_faq(engine, retriever)
        await announce(self.bus, "faq")
        return retriever.version

    def _faq_store(self, engine: DialogueEngine) -> FaqStore:
        return FaqStore(self.settings.faq_dir, engine.models.retriever.encoder)

    def _read_wanted(self, store: TranscriptStore, engine: DialogueEngine) -> Wanted:
        return Wanted(production_version(store, self.settings), self._faq_store(engine).version())

    async def _load_classifier(self, engine: DialogueEngine, store: TranscriptStore, version: str) -> None:
        path = self.settings.models_dir / version
        try:
            classifier = await anyio.to_thread.run_sync(load_classifier, path, self.settings)
        except Exception as exc:  # whatever broke, customers keep the model they have
            error = f"{type(exc).__name__}: {exc}"
            self._failed = dataclasses.replace(self._failed, model=version)
            self.model_error = f"model {version}: {error}"
            log.error("refused model %s, still serving %s: %s", version, engine.models.classifier.version, error)
            await anyio.to_thread.run_sync(record_load_error, store, version, error)
            return
        old = engine.models.classifier.version
        served = on_worker(classifier, engine.models.worker)
        engine.models = dataclasses.replace(engine.models, classifier=served)  # one assignment: the swap
        await self._reload_assistant(engine)
        self._failed, self.model_error = dataclasses.replace(self._failed, model=None), None
        await anyio.to_thread.run_sync(record_load_error, store, version, None)
        log.info("now serving model %s (was %s)", version, old)

    async def _reload_assistant(self, engine: DialogueEngine) -> None:
        """The company's Rasa side (domain, rules, entities, endpoint) read again with a new model, whose intents
        it routes; a broken one is refused and the former kept."""
        try:
            engine.assistant = await anyio.to_thread.run_sync(load_assistant, self.settings)
        except Exception as exc:
            log.error("kept the former Rasa domain and rules: %s: %s", type(exc).__name__, exc)

    async def _load_faq(self, engine: DialogueEngine, version: str) -> None:
        try:
            retriever = await anyio.to_thread.run_sync(self._faq_store(engine).load)
        except Exception as exc:
            self._failed = dataclasses.replace(self._failed, faq=version)
            self.faq_error = f"faq {version}: {type(exc).__name__}: {exc}"
            log.error("could not load FAQ %s, still serving %s: %s", version, engine.models.retriever.version, exc)
            return
        self._swap_faq(engine, retriever)

    def _swap_faq(self, engine: DialogueEngine, retriever: FaqRetriever) -> None:
        old = engine.models.retriever.version
        engine.models = dataclasses.replace(engine.models, retriever=retriever)
        self._failed, self.faq_error = dataclasses.replace(self._failed, faq=None), None
        log.info("now serving FAQ %s (was %s)", retriever.version, old)

    async def _listen(self) -> None:
        """Wake the watch loop on every reload message; resubscribe after a bus failure."""
        while True:
            try:
                async with self.bus.subscribe(RELOAD_CHANNEL) as events:
                    async for _event in events:
                        self.trigger()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reload channel lost (%s); polling every %ss", exc, self.settings.reload_seconds)
                await asyncio.sleep(self.settings.reload_seconds)

