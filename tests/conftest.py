"""Shared fixtures: the demo company, a real (small) trained model, a prepared data dir, a live server,
and a fresh PostgreSQL database. Nothing here is a mock: every fixture is the real component."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import (
    POSTGRES_URL,
    ActionServerProcess,
    LiveServer,
    postgres_database,
    start_action_server,
    start_server,
    stop_action_server,
    stop_server,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
# Epochs of the shared test model: enough for the demo questions the tests ask to be answered right.
TEST_MODEL_EPOCHS = int(os.environ.get("HELPLINE_TEST_MODEL_EPOCHS", "6"))


def _fingerprint(*paths: Path) -> str:
    digest = hashlib.sha256(str(TEST_MODEL_EPOCHS).encode())
    for path in paths:
        for file in sorted(path.rglob("*.py") if path.is_dir() else [path]):
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    return DEMO


@pytest.fixture(scope="session")
def encoder():  # type: ignore[no-untyped-def]
    from core.sentence_encoder import SentenceEncoder

    return SentenceEncoder()


@pytest.fixture(scope="session")
def demo_model_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier really fine-tuned on the demo intents, cached between runs by data and code hash."""
    from core.encoder import default_encoder_path
    from training.args import TrainingArguments
    from training.data import load_examples
    from training.trainer import train

    key = _fingerprint(DEMO / "intents.csv", ROOT / "training")
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider: use a temp dir
    root = Path(cache.mkdir("helpline-demo-model")) if cache else tmp_path_factory.mktemp("demo-model")
    target = root / key
    if not (target / "config.json").exists():
        shutil.rmtree(target, ignore_errors=True)
        partial = target.with_name(f"{key}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        args = TrainingArguments(epochs=TEST_MODEL_EPOCHS, seed=0)
        train(load_examples(DEMO / "intents.csv"), args, default_encoder_path(), partial, progress=False)
        try:
            partial.rename(target)
        except OSError:  # another test run finished the same model first: use theirs
            shutil.rmtree(partial, ignore_errors=True)
    return target


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory: pytest.TempPathFactory, demo_model_dir: Path, encoder) -> Path:  # type: ignore[no-untyped-def]
    """A data dir prepared like `helpline setup`: company replies, the FAQ index, the model registered."""
    from retrieval.store import FaqStore
    from training.registry import ModelRegistry

    data_dir = tmp_path_factory.mktemp("var")
    shutil.copyfile(DEMO / "company.json", data_dir / "company.json")
    FaqStore(data_dir / "faq", encoder).ingest(DEMO / "faq.jsonl")
    registry = ModelRegistry(data_dir / "models")
    version = registry.new_version_path()
    shutil.copytree(demo_model_dir, version)
    registry.promote(version.name)
    return data_dir


@pytest.fixture
def settings(demo_data_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings over the shared demo data dir with a database of this test's own."""
    from bot.settings import Settings

    return Settings(data_dir=demo_data_dir, database_url=f"sqlite:///{tmp_path / 'helpline.db'}",
                    stream_delay_ms=0)


@pytest.fixture(scope="session")
def live_server(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("live")
    server = start_server(demo_data_dir, f"sqlite:///{workdir / 'helpline.db'}", workdir / "server.log")
    yield server
    stop_server(server)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the local server, dropped afterwards."""
    with postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(scope="session")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServerProcess]:
    """One real rasa-sdk action server, running the demo's actions and some that misbehave."""
    server = start_action_server("tests.bot.rasa.actions", tmp_path_factory.mktemp("actions") / "actions.log")
    yield server
    stop_action_server(server)
