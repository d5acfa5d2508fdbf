"""Two real server processes sharing PostgreSQL and Redis: an agent on one replica serves a customer on the other."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from bot.store.db import make_engine
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from tests.api.wsclient import Customer, open_agent_socket, until_closed
from tests.cli import HELPLINE, ROOT
from tests.servers import LiveServer, add_agents, start_server, stop_server

REDIS_URL = os.environ.get("HELPLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery"


@pytest.fixture
def replicas(demo_data_dir: Path, postgres_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    add_agents(postgres_url, PASSWORD, "maya")
    first = start_server(demo_data_dir, postgres_url, tmp_path / "a.log", HELPLINE_REDIS_URL=REDIS_URL)
    try:
        second = start_server(demo_data_dir, postgres_url, tmp_path / "b.log", HELPLINE_REDIS_URL=REDIS_URL)
    except Exception:
        stop_server(first)
        raise
    yield first, second
    stop_server(second)
    stop_server(first)


def next_event(agent_ws: ClientConnection, kind: str, conversation: str, timeout: float = 30) -> dict[str, Any]:
    """The next agent event of ``kind`` about ``conversation`` (others, e.g. from other tests, are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        event = json.loads(agent_ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        about = event.get("conversation_id") or event.get("conversation", {}).get("id")
        if event["type"] == kind and about == conversation:
            return event


def next_frame(customer: Customer, kind: str) -> dict[str, Any]:
    while True:
        frame = customer.receive(timeout=30)
        if frame["type"] == kind:
            return frame


def test_agent_on_one_replica_talks_with_customer_on_another(replicas: tuple[LiveServer, LiveServer]) -> None:
    customer_side, agent_side = replicas
    login = httpx.post(f"{agent_side.url}/api/auth/login", json={"name": "maya", "password": "correct horse battery"})
    assert login.status_code == 200, login.text
    api = httpx.Client(base_url=agent_side.url, headers={"Authorization": f"Bearer {login.json()['token']}"})
    ws_url = agent_side.ws_url.replace("/ws", "/agent/ws")
    with connect(ws_url, additional_headers={"Authorization": f"Bearer {login.json()['token']}"}) as agent_ws:
        assert json.loads(agent_ws.recv(timeout=10))["type"] == "hello"
        with Customer.open(customer_side.ws_url) as customer:
            conversation = customer.session["conversation_id"]
            asked = customer.ask("I want to talk to a person")
            assert asked.start["route"] == "handoff"
            assert next_frame(customer, "state") == {"type": "state", "state": "waiting", "agent": None}
            request = next_event(agent_ws, "handoff.requested", conversation)
            assert request["reason"] == "asked" and request["conversation"]["state"] == "waiting"

            accepted = api.post(f"/api/agent/conversations/{conversation}/accept")
            assert accepted.status_code == 200 and accepted.json()["assigned_agent"] == "Maya"
            assert next_frame(customer, "state") == {"type": "state", "state": "agent", "agent": "Maya"}

            agent_ws.send(json.dumps({"type": "typing", "conversation_id": conversation, "active": True}))
            typing = next_frame(customer, "typing")
            assert typing["agent"] == "Maya" and typing["active"] is True
            sent = api.post(f"/api/agent/conversations/{conversation}/messages", json={"text": "Hi, Maya here."})
            assert sent.status_code == 201, sent.text
            delivered = next_frame(customer, "agent.message")
            assert delivered["text"] == "Hi, Maya here." and delivered["agent"] == "Maya"

            customer.send({"type": "typing", "active": True})
            assert next_event(agent_ws, "typing", conversation)["active"] is True
            customer.send({"type": "message", "text": "How long does a refund take?", "id": "c2"})
            received = next_frame(customer, "message.received")
            assert received["in_reply_to"] == "c2", "the bot must stay silent while the agent holds the chat"
            relayed = next_event(agent_ws, "message", conversation)
            while relayed["message"]["role"] != "customer":
                relayed = next_event(agent_ws, "message", conversation)
            assert relayed["message"]["text"] == "How long does a refund take?"

            assert api.post(f"/api/agent/conversations/{conversation}/handback").status_code == 200
            assert next_frame(customer, "state") == {"type": "state", "state": "bot", "agent": None}
            again = customer.ask("How long does a refund take?")
            assert again.start["route"] == "faq" and "business days" in again.text
    api.close()


def test_an_ended_login_closes_its_socket_on_another_replica_at_once(
    replicas: tuple[LiveServer, LiveServer], tmp_path: Path
) -> None:
    """Through Redis, an admin's change on one replica (or from the command line) closes the agent's socket on the
    other in seconds, not at its next periodic check (30 s)."""
    admin_side, agent_side = replicas
    engine = make_engine(admin_side.database_url)
    Accounts(TranscriptStore(engine)).add_agent("root", PASSWORD, "admin")
    engine.dispose()
    root = login(admin_side, "root")

    with open_agent_socket(agent_side.url, login(agent_side, "maya")) as maya_ws:
        revoked = httpx.delete(f"{admin_side.url}/api/admin/agents/maya/sessions", timeout=30,
                               headers={"Authorization": f"Bearer {root}"})
        assert revoked.status_code == 200 and revoked.json()["revoked"] == 1, revoked.text
        code, frames = until_closed(maya_ws, 10)
        assert code == 4401 and frames[-1]["code"] == "session_ended"

    with open_agent_socket(agent_side.url, login(agent_side, "maya")) as maya_ws:
        revoke = subprocess.run(
            [str(HELPLINE), "agents", "revoke", "maya"], cwd=ROOT, text=True, capture_output=True, timeout=120,
            env={**os.environ, "HELPLINE_DATA_DIR": str(tmp_path), "HELPLINE_DATABASE_URL": agent_side.database_url,
                 "HELPLINE_REDIS_URL": REDIS_URL}, check=False,
        )
        assert revoke.returncode == 0, revoke.stderr
        code, frames = until_closed(maya_ws, 10)
        assert code == 4401 and frames[-1]["code"] == "session_ended"


def login(server: LiveServer, name: str) -> str:
    response = httpx.post(f"{server.url}/api/auth/login", json={"name": name, "password": PASSWORD}, timeout=30)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token
