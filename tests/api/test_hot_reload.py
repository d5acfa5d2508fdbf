"""A real server picks up a promoted model without a restart, and a connection opened before keeps working."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.learning.reloader import notify_replicas
from bot.settings import Settings
from bot.store.db import make_engine, migrate
from bot.store.models import Message
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from tests.api.test_replicas import REDIS_URL
from tests.api.wsclient import Customer
from tests.servers import LiveServer, start_server, stop_server
from tests.tiny_models import broken_version, fresh_data_dir, promote, train_tiny_model
from training.registry import ModelRegistry

PASSWORD = "correct horse battery"


@pytest.fixture
def server(demo_data_dir: Path, tmp_path: Path) -> Iterator[tuple[LiveServer, TranscriptStore, str]]:
    """A live server over a data dir of its own, checking for promotions every half second."""
    data_dir, demo_version = fresh_data_dir(demo_data_dir, tmp_path / "var")
    url = f"sqlite:///{tmp_path / 'helpline.db'}"
    engine = make_engine(url)
    migrate(engine)
    store = TranscriptStore(engine)
    Accounts(store).add_agent("maya", PASSWORD, "agent", "Maya")
    live = start_server(data_dir, url, tmp_path / "server.log", HELPLINE_RELOAD_SECONDS="0.5")
    yield live, store, demo_version
    stop_server(live)
    engine.dispose()


def wait_for(read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool],
             timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = read()
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_a_promoted_model_serves_an_open_connection_and_a_broken_one_is_refused(
    server: tuple[LiveServer, TranscriptStore, str], request: pytest.FixtureRequest
) -> None:
    live, store, demo_version = server
    registry = ModelRegistry(live.data_dir / "models")
    tiny_version, tiny_labels = train_tiny_model(registry)  # trained while the server is up
    (registry.root / tiny_version / "report").mkdir()
    (registry.root / tiny_version / "report" / "index.html").write_text('<h1>report</h1><img src="f1.png">')
    (registry.root / tiny_version / "report" / "f1.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    login = httpx.post(f"{live.url}/api/auth/login", json={"name": "maya", "password": PASSWORD})
    api = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {login.json()['token']}"})
    request.addfinalizer(api.close)

    def health() -> dict[str, Any]:
        return dict(httpx.get(f"{live.url}/health", timeout=10).json())

    with Customer.open(live.ws_url) as customer:
        before = customer.ask("hello")
        assert before.start["intent"] not in tiny_labels
        assert health()["model_version"] == demo_version

        promote(store, registry, tiny_version)
        body = wait_for(health, lambda b: b["model_version"] == tiny_version)
        assert body["model_version"] == body["wanted_model_version"] == tiny_version, body
        assert body["load_error"] is None

        after = customer.ask("hello")  # the same socket, opened before the swap
        assert after.start["intent"] in tiny_labels
        with store.session() as session:
            logged = session.scalar(select(Message.model_version).where(Message.reply_id == after.start["reply_id"]))
            assert logged == tiny_version

        broken = broken_version(registry, like=demo_version)
        promote(store, registry, broken)
        body = wait_for(health, lambda b: b["load_error"] is not None)
        assert body["status"] == "ok" and body["model_version"] == tiny_version, body
        assert body["wanted_model_version"] == broken and broken in body["load_error"]
        still = customer.ask("hello")
        assert still.start["intent"] in tiny_labels and still.end["text"]

    models = api.get("/api/agent/models")
    assert models.status_code == 200, models.text
    listing = models.json()
    assert listing["serving"] == tiny_version and listing["production"] == broken
    assert broken in listing["load_error"]
    rows = {row["version"]: row for row in listing["versions"]}
    assert rows[broken]["status"] == "production" and rows[broken]["load_error"]
    assert rows[tiny_version]["serving"] and rows[tiny_version]["status"] == "retired"
    assert rows[tiny_version]["report_url"] == f"/api/agent/models/{tiny_version}/report/"
    assert rows[broken]["report_url"] is None

    report = api.get(rows[tiny_version]["report_url"])
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in report.headers["content-security-policy"]
    assert api.get(f"/api/agent/models/{tiny_version}/report").status_code == 200
    plot = api.get(f"/api/agent/models/{tiny_version}/report/f1.png")
    assert plot.status_code == 200 and plot.headers["content-type"] == "image/png"
    assert api.get(f"/api/agent/models/{broken}/report").status_code == 404
    assert api.get("/api/agent/models/..%2F..%2Fsecrets/report").status_code == 404
    assert httpx.get(f"{live.url}/api/agent/models").status_code == 401


@pytest.mark.slow
def test_a_promotion_announced_on_redis_reaches_both_replicas_at_once(
    demo_data_dir: Path, postgres_url: str, tmp_path: Path
) -> None:
    """Two replicas polling only every 10 minutes: the Redis reload message alone makes both swap."""
    data_dir, _ = fresh_data_dir(demo_data_dir, tmp_path / "var")
    registry = ModelRegistry(data_dir / "models")
    tiny_version, tiny_labels = train_tiny_model(registry)
    engine = make_engine(postgres_url)
    migrate(engine)
    store = TranscriptStore(engine)
    env = {"HELPLINE_REDIS_URL": REDIS_URL, "HELPLINE_RELOAD_SECONDS": "600"}
    replicas = [start_server(data_dir, postgres_url, tmp_path / "a.log", **env)]
    try:
        replicas.append(start_server(data_dir, postgres_url, tmp_path / "b.log", **env))
        customers = [Customer.open(replica.ws_url) for replica in replicas]
        promote(store, registry, tiny_version)
        settings = Settings(data_dir=data_dir, database_url=postgres_url, redis_url=REDIS_URL)
        for replica, customer in zip(replicas, customers, strict=True):
            def announce_and_read(url: str = replica.url) -> dict[str, Any]:
                notify_replicas(settings)  # idempotent: repeated in case a replica was not subscribed yet
                return dict(httpx.get(f"{url}/health").json())

            body = wait_for(announce_and_read, lambda b: b["model_version"] == tiny_version, timeout=30)
            assert body["model_version"] == tiny_version, body
            assert customer.ask("hello").start["intent"] in tiny_labels
            customer.close()
    finally:
        for replica in replicas:
            stop_server(replica)
        engine.dispose()
