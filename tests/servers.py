"""Real server processes for tests: `helpline serve` in a subprocess on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.services import action_server
from bot.services.action_server import ActionServerProcess
from bot.store.db import make_engine, migrate
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "HELPLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A real `helpline serve` in a subprocess on 127.0.0.1."""

    url: str
    ws_url: str
    data_dir: Path
    database_url: str
    process: subprocess.Popen[bytes]
    log: Path


# A test server is shared by many tests, all connecting from 127.0.0.1 within minutes: its per-address limits are
# raised out of their way (the tests of the limits start servers with their own).
SUITE_LIMITS = {
    "HELPLINE_CONNECTIONS_PER_MINUTE": "100000", "HELPLINE_CONVERSATIONS_PER_MINUTE": "100000",
    "HELPLINE_CONNECTIONS_PER_ADDRESS": "10000",
}


def start_server(data_dir: Path, database_url: str, log: Path, log_level: str = "warning", code: Path = ROOT,
                 **env: str) -> LiveServer:
    """``helpline serve`` of the source tree ``code`` (this one unless told: another version, exported)."""
    port = free_port()
    environ = {
        **os.environ,
        "HELPLINE_DATA_DIR": str(data_dir),
        "HELPLINE_DATABASE_URL": database_url,
        "HELPLINE_STREAM_DELAY_MS": "15",
        "PYTHONUNBUFFERED": "1",
        **SUITE_LIMITS,
        **env,
    }
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", log_level],
            cwd=code, env=environ, stdout=handle, stderr=subprocess.STDOUT,  # `-m`: the tree in cwd is imported
        )
    server = LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", data_dir, database_url,
                        process, log)
    if not healthy(process, f"{server.url}/health", log, "server", 180):
        stop_server(server)
        raise RuntimeError(f"server not healthy after 180 s:\n{log.read_text()}")
    return server


def healthy(process: subprocess.Popen[bytes], url: str, log: Path, what: str, seconds: float) -> bool:
    """Poll ``url`` until it answers 200 (True) or ``seconds`` pass (False); a process that exits is an error."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return False


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


def add_agents(database_url: str, password: str, *names: str) -> None:
    """Create console accounts (role agent, display name the capitalised name), as `helpline agents add` does."""
    engine = make_engine(database_url)
    try:
        migrate(engine)  # idempotent; a server not started yet has not migrated the database
        accounts = Accounts(TranscriptStore(engine))
        for name in names:
            accounts.add_agent(name, password, "agent", name.capitalize())
    finally:
        engine.dispose()


def start_action_server(package: str, log: Path) -> ActionServerProcess:
    """Start rasa-sdk on a free port with ``package``'s actions; returns once ``/health`` answers."""
    return action_server.start_action_server(package, log, {**os.environ}, port=free_port(), cwd=ROOT)


def stop_action_server(server: ActionServerProcess) -> None:
    """Stop the whole process group: SIGTERM to rasa-sdk's main process alone leaves its workers running."""
    server.stop()


@contextmanager
def postgres_database(server_url: str = POSTGRES_URL) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server of ``server_url``, dropped afterwards."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"helpline_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        raise RuntimeError(f"PostgreSQL at {server_url} is not reachable ({exc}); start it (see .ci/run)") from exc
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
