"""The reloader on a real runtime: promoted models and changed FAQs swap in; a broken model is refused."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest

from bot.learning.reloader import Reloader, notify_replicas, production_version, record_load_error
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.models import ModelVersion
from bot.store.transcripts import TranscriptStore
from retrieval.store import FaqStore
from tests.retrieval.faqs import SHOP_FAQ, write_jsonl
from tests.tiny_models import broken_version, fresh_data_dir, promote, train_tiny_model
from training.registry import ModelRegistry


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[str]]:
    """One tiny real model, trained once for this module and hard-linked into each test's registry."""
    registry = ModelRegistry(tmp_path_factory.mktemp("tiny-models"))
    version, labels = train_tiny_model(registry)
    return registry.root / version, version, labels


@pytest.fixture
def data(demo_data_dir: Path, tmp_path: Path, tiny_model: tuple[Path, str, list[str]]) -> tuple[Settings, str]:
    """Settings over a data dir of this test's own, serving the demo model, with the tiny model registered."""
    data_dir, demo_version = fresh_data_dir(demo_data_dir, tmp_path / "var")
    folder, version, _ = tiny_model
    shutil.copytree(folder, data_dir / "models" / version, copy_function=os.link)
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{tmp_path / 'helpline.db'}",
                        stream_delay_ms=0, reload_seconds=3600)  # the tests call check() themselves
    return settings, demo_version


def with_runtime(settings: Settings, scenario: Callable[[Runtime], Awaitable[None]]) -> None:
    async def main() -> None:
        runtime = Runtime(settings)
        await runtime.start()
        assert runtime.error is None, runtime.error
        try:
            await scenario(runtime)
        finally:
            await runtime.stop()

    asyncio.run(main())


def reloader(runtime: Runtime) -> Reloader:
    assert runtime.reloader is not None, "the runtime has not loaded"
    return runtime.reloader


def failed_at(store: TranscriptStore, version: str) -> datetime:
    """When loading ``version`` last failed, from its catalog row (which must say why)."""
    with store.session() as session:
        row = session.get(ModelVersion, version)
        assert row is not None and row.load_error and row.load_error_at is not None
        return row.load_error_at


def test_a_promoted_model_is_swapped_in_and_answers_the_next_turn(
    data: tuple[Settings, str], tiny_model: tuple[Path, str, list[str]]
) -> None:
    settings, demo_version = data
    _, tiny_version, tiny_labels = tiny_model

    async def scenario(runtime: Runtime) -> None:
        assert runtime.engine is not None and runtime.store is not None
        engine = runtime.engine
        conversation, _ = runtime.store.open_conversation()
        before = engine.answer(conversation, "hello").reply
        assert before is not None and before.model_version == demo_version
        old_models = engine.models

        promote(runtime.store, ModelRegistry(settings.models_dir), tiny_version)
        await reloader(runtime).check()

        assert engine.models.classifier.version == tiny_version
        assert engine.models.retriever is old_models.retriever  # only the classifier changed
        assert reloader(runtime).wanted_version == tiny_version and reloader(runtime).load_error is None
        after = engine.answer(conversation, "hello").reply
        assert after is not None and after.model_version == tiny_version and after.intent in tiny_labels
        # a turn that took its snapshot before the swap finishes on the old model
        assert old_models.classifier.predict(["hello"])[0].intent not in tiny_labels

    with_runtime(settings, scenario)


def test_a_broken_model_is_refused_recorded_and_the_old_one_keeps_serving(
    data: tuple[Settings, str], caplog: pytest.LogCaptureFixture
) -> None:
    settings, demo_version = data
    registry = ModelRegistry(settings.models_dir)
    broken = broken_version(registry, like=demo_version)

    async def scenario(runtime: Runtime) -> None:
        assert runtime.engine is not None and runtime.store is not None
        promote(runtime.store, registry, broken)
        with caplog.at_level(logging.ERROR, logger="bot.learning.reloader"):
            await reloader(runtime).check()
        assert runtime.engine.models.classifier.version == demo_version
        assert reloader(runtime).wanted_version == broken
        error = reloader(runtime).load_error
        assert error is not None and broken in error
        assert any(broken in record.getMessage() for record in caplog.records)
        first_failure = failed_at(runtime.store, broken)
        await reloader(runtime).check()  # not retried on every tick...
        assert failed_at(runtime.store, broken) == first_failure
        await reloader(runtime).check(force=True)  # ...only when asked (a reload message)
        assert failed_at(runtime.store, broken) > first_failure

        conversation, _ = runtime.store.open_conversation()
        reply = runtime.engine.answer(conversation, "hello").reply
        assert reply is not None and reply.model_version == demo_version

        promote(runtime.store, registry, demo_version)  # rolled back: nothing wanted is missing any more
        await reloader(runtime).check()
        assert reloader(runtime).load_error is None and reloader(runtime).wanted_version == demo_version

    with_runtime(settings, scenario)


def test_a_changed_faq_is_swapped_in_and_reload_faq_serves_it_at_once(data: tuple[Settings, str]) -> None:
    settings, _ = data

    async def scenario(runtime: Runtime) -> None:
        assert runtime.engine is not None
        engine = runtime.engine
        encoder = engine.models.retriever.encoder
        old_version, classifier = engine.models.retriever.version, engine.models.classifier
        faq = write_jsonl(settings.data_dir / "shop.jsonl", SHOP_FAQ)
        report = await asyncio.to_thread(FaqStore(settings.faq_dir, encoder).ingest, faq)
        await reloader(runtime).check()
        assert engine.models.retriever.version == report.version != old_version
        assert engine.models.classifier is classifier

        smaller = write_jsonl(settings.data_dir / "small.jsonl", SHOP_FAQ[:3])
        report = await asyncio.to_thread(FaqStore(settings.faq_dir, encoder).ingest, smaller)
        assert await runtime.reload_faq() == report.version == engine.models.retriever.version
        assert len(engine.models.retriever.entries) == 3

    with_runtime(settings, scenario)


def test_production_version_reads_the_catalog_then_current_and_honours_a_pinned_model(
    data: tuple[Settings, str], tiny_model: tuple[Path, str, list[str]]
) -> None:
    settings, demo_version = data

    async def scenario(runtime: Runtime) -> None:
        store = runtime.store
        assert store is not None
        assert production_version(store, settings) == demo_version  # no rows yet: the registry's CURRENT
        promote(store, ModelRegistry(settings.models_dir), tiny_model[1])
        assert production_version(store, settings) == tiny_model[1]
        pinned = settings.model_copy(update={"model_dir": settings.models_dir / demo_version})
        assert production_version(store, pinned) == demo_version
        record_load_error(store, "no-such-version", "ignored")  # a version without a row: nothing to record
        notify_replicas(settings)  # no Redis configured: a no-op

    with_runtime(settings, scenario)


def test_a_runtime_that_is_not_loaded_has_nothing_to_reload(data: tuple[Settings, str]) -> None:
    settings, _ = data
    runtime = Runtime(settings)
    assert runtime.reloader is None and runtime.load_error is None
    with pytest.raises(RuntimeError, match="not loaded"):
        asyncio.run(runtime.reload_faq())
