"""What the Rasa channels' tests share: a real server of the demo company with its Rasa side and action server,
and an agent who takes conversations over through the real HTTP API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bot.store.db import make_engine
from bot.store.models import RasaEvent
from bot.store.senders import conversation_of
from bot.store.transcripts import TranscriptStore
from tests.api.rasa_company import rasa_company
from tests.servers import ActionServerProcess, LiveServer, add_agents, start_server

PASSWORD = "correct horse battery"


def start_channels_server(root: Path, demo_data_dir: Path, action_server: ActionServerProcess,
                          **env: str) -> LiveServer:
    """The demo company with its Rasa side, on a fresh SQLite database, with agent Maya."""
    data_dir = rasa_company(root, demo_data_dir)
    server = start_server(data_dir, f"sqlite:///{root / 'helpline.db'}", root / "server.log",
                          HELPLINE_ACTION_ENDPOINT_URL=action_server.url, HELPLINE_ACTION_TIMEOUT_S="5",
                          HELPLINE_STREAM_DELAY_MS="0", **env)
    add_agents(server.database_url, PASSWORD, "maya")
    return server


def conversation_named(server: LiveServer, channel: str, sender: str) -> str:
    """The Helpline conversation a Rasa client's name stands for, read from the server's database."""
    engine = make_engine(server.database_url)
    try:
        found = conversation_of(TranscriptStore(engine), channel, sender)
    finally:
        engine.dispose()
    assert found is not None, f"no conversation for {channel} sender {sender!r}"
    return found


def tracker_events(server: LiveServer, conversation: str) -> list[dict[str, Any]]:
    """The Rasa events stored for a conversation, in order: the tracker the action server is sent."""
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(select(RasaEvent.event).where(RasaEvent.conversation_id == conversation)
                                           .order_by(RasaEvent.id)))
    finally:
        engine.dispose()


@dataclass
class Agent:
    """Agent Maya on the real HTTP API."""

    server: LiveServer
    http: httpx.Client

    @classmethod
    def login(cls, server: LiveServer) -> Agent:
        answer = httpx.post(f"{server.url}/api/auth/login", json={"name": "maya", "password": PASSWORD}, timeout=30)
        assert answer.status_code == 200, answer.text
        token = answer.json()["token"]
        return cls(server, httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30))

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.http.post(f"{self.server.url}{path}", json=body)
        assert answer.status_code in (200, 201), f"{path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        return result

    def take_over(self, conversation: str) -> None:
        self.post(f"/api/agent/conversations/{conversation}/accept")

    def say(self, conversation: str, text: str) -> None:
        self.post(f"/api/agent/conversations/{conversation}/messages", {"text": text})

    def hand_back(self, conversation: str) -> None:
        self.post(f"/api/agent/conversations/{conversation}/handback")

    def messages(self, conversation: str) -> list[dict[str, Any]]:
        answer = self.http.get(f"{self.server.url}/api/agent/conversations/{conversation}")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["messages"]
        return found
