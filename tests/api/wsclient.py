"""Small real WebSocket clients: the customer socket as a widget uses it, and the agent socket as the console does."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection


@dataclass
class Streamed:
    start: dict[str, Any]
    deltas: list[str]
    end: dict[str, Any]

    @property
    def text(self) -> str:
        return "".join(self.deltas)


@dataclass
class Customer:
    """One customer connection: the session frame, then send/receive helpers."""

    ws: ClientConnection
    session: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, ws_url: str, conversation_id: str | None = None, token: str | None = None,
             **headers: str) -> Customer:
        """Connect and start a conversation, or resume one with its id and token (sent in the first frame)."""
        customer = cls.connect(ws_url, **headers)
        if conversation_id is None:
            customer.send({"type": "start"})
        else:
            customer.send({"type": "resume", "conversation_id": conversation_id, "token": token})
        customer.session = customer.receive()
        return customer

    @classmethod
    def connect(cls, ws_url: str, **headers: str) -> Customer:
        """Only the socket: no start or resume frame yet."""
        return cls(connect(ws_url, open_timeout=30, additional_headers=headers or None))

    def receive(self, timeout: float = 60) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
        return frame

    def send(self, frame: dict[str, Any] | str | bytes) -> None:
        self.ws.send(frame if isinstance(frame, (str, bytes)) else json.dumps(frame))

    def ask(self, text: str, client_id: str | None = None) -> Streamed:
        self.send({"type": "message", "text": text, "id": client_id})
        return self.read_reply()

    def read_reply(self) -> Streamed:
        """The next streamed reply (a custom action's second message follows its first)."""
        start = self.receive()
        assert start["type"] == "reply.start", start
        deltas: list[str] = []
        while True:
            frame = self.receive()
            if frame["type"] == "reply.end":
                return Streamed(start, deltas, frame)
            assert frame["type"] == "reply.delta" and frame["reply_id"] == start["reply_id"], frame
            deltas.append(frame["text"])

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> Customer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def agent_ws_url(server_url: str) -> str:
    """The agent socket's address on a server at ``server_url`` (http://host:port)."""
    return server_url.replace("http://", "ws://", 1) + "/agent/ws"


def open_agent_socket(server_url: str, token: str) -> ClientConnection:
    """An agent socket logged in with a bearer token, once the server has said hello."""
    ws = connect(agent_ws_url(server_url), open_timeout=30,
                 additional_headers={"Authorization": f"Bearer {token}"})
    hello = json.loads(ws.recv(timeout=30))
    assert hello["type"] == "hello", hello
    return ws


def still_open(ws: Connection) -> bool:
    """Whether the agent socket answers a ping (live events in between are skipped)."""
    ws.send(json.dumps({"type": "ping"}))
    while True:
        try:
            frame = json.loads(ws.recv(timeout=30))
        except ConnectionClosed:
            return False
        if frame["type"] == "pong":
            return True


def until_closed(ws: Connection, within: float) -> tuple[int | None, list[dict[str, Any]]]:
    """Read until the server closes the socket: its close code and the frames it sent before. Fails when the
    socket is still open after ``within`` seconds."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"the socket was still open after {within} s; it sent {frames}")
        try:
            frames.append(json.loads(ws.recv(timeout=remaining)))
        except TimeoutError:
            continue
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), frames
