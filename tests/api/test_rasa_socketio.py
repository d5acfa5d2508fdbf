"""Rasa's socket.io channel as Rasa front-ends use it: a real server with the demo's Rasa side and a real action
server, and a python-socketio client speaking Rasa's events (``session_request``, ``user_uttered``)."""

from __future__ import annotations

import queue
import time
from typing import Any

import httpx
import pytest
import socketio

from tests.api.rasa_channels import Agent, conversation_named, tracker_events
from tests.servers import LiveServer

EVENT_TIMEOUT_S = 30.0
OPEN_PER_ADDRESS = 4  # sockets one address may hold open on the channels' server


@pytest.fixture
def server(channels_server: LiveServer) -> LiveServer:
    """The channels' server: 4 sockets open per address, 6 messages at once per socket, then 6 a minute."""
    return channels_server


class RasaSocket:
    """A socket.io client as a Rasa front-end uses one: every event it gets is kept, in order."""

    def __init__(self, server: LiveServer, **headers: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.session_id: str | None = None
        for name in ("bot_uttered", "session_confirm", "error"):
            self.sio.on(name, handler=lambda data, name=name: self.events.put((name, data)))
        self.sio.connect(server.url, socketio_path="/socket.io/", transports=["websocket"], headers=headers,
                         wait_timeout=30)

    def __enter__(self) -> RasaSocket:
        return self

    def __exit__(self, *_: object) -> None:
        self.sio.disconnect()

    def next(self, kind: str, timeout: float = EVENT_TIMEOUT_S) -> Any:
        name, data = self.events.get(timeout=timeout)
        assert name == kind, (name, data)
        return data

    def request_session(self, session_id: str | None = None) -> str:
        self.sio.emit("session_request", {"session_id": session_id})
        self.session_id = self.next("session_confirm")
        assert isinstance(self.session_id, str) and self.session_id
        return self.session_id

    def say(self, text: str, count: int = 1, **extra: Any) -> list[dict[str, Any]]:
        """Send ``text`` and read the ``count`` bot messages it gets."""
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id, **extra})
        return [self.next("bot_uttered") for _ in range(count)]

    def quiet(self, seconds: float) -> list[tuple[str, Any]]:
        """What arrives within ``seconds``."""
        got, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.events.get(timeout=left))
            except queue.Empty:
                break
        return got


def refusal(server: LiveServer) -> Any:
    """What the server said to a socket it would not connect (``connect_error``'s data)."""
    client, said = socketio.Client(reconnection=False), []
    client.on("connect_error", handler=said.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, socketio_path="/socket.io/", transports=["websocket"], wait_timeout=30)
    assert said, "no connect_error"
    return said[0]


def test_a_session_is_confirmed_answered_with_rasa_payloads_and_kept_across_sockets(server: LiveServer) -> None:
    with RasaSocket(server) as client:
        session = client.request_session()  # null: a new session, as Rasa does
        (asked,) = client.say("/return_item", customData={"language": "en"})
        assert set(asked) == {"text"} and "Which order" in asked["text"]
        refused, again = client.say("9999", count=2)  # one action, two messages, in order
        assert "can't find an order 9999" in refused["text"] and "Which order" in again["text"]
        client.say("order 3302")
        (confirm,) = client.say("the boots are too small")
        assert set(confirm) == {"text", "quick_replies"}
        assert confirm["quick_replies"][0] == {"content_type": "text", "title": "Yes, please", "payload": "/affirm"}
        assert "3302" in client.say("/affirm")[0]["text"]
    with RasaSocket(server) as back:  # a reload: the same session id, the same conversation
        assert back.request_session(session) == session
        (status,) = back.say("/order_status")
        assert "3302" in status["text"]  # the order is remembered: no question
    conversation = conversation_named(server, "socketio", session)
    with Agent.login(server) as maya:
        texts = [m["text"] for m in maya.messages(conversation) if m["role"] == "customer"]
    assert texts[0] == "/return_item" and texts[-1] == "/order_status"
    first = next(e for e in tracker_events(server, conversation) if e["event"] == "user")
    assert first["metadata"] == first["parse_data"]["metadata"] == {"language": "en"}  # rasa-webchat's customData
    assert first["input_channel"] == "socketio"


def test_a_fallback_offers_its_suggestions_as_quick_replies(server: LiveServer) -> None:
    with RasaSocket(server) as client:
        client.request_session()
        (said,) = client.say("tell me a joke")
    assert said["quick_replies"] and all(q["title"] == q["payload"] for q in said["quick_replies"])


def test_after_a_handoff_the_agent_s_messages_arrive_as_bot_uttered(server: LiveServer) -> None:
    with RasaSocket(server) as client, Agent.login(server) as maya:
        session = client.request_session("handoff-1")
        assert session == "handoff-1"
        (handed,) = client.say("I want to talk to a person")
        assert handed["text"]
        client.sio.emit("user_uttered", {"message": "hello? anyone?", "session_id": session})
        assert client.quiet(1.5) == []  # the bot stays silent
        conversation = conversation_named(server, "socketio", session)
        maya.take_over(conversation)
        maya.say(conversation, "Hi, I'm Maya. What went wrong?")
        said = client.next("bot_uttered")
        assert said["text"] == "Hi, I'm Maya. What went wrong?" and said["metadata"]["agent"] == "Maya"
        maya.hand_back(conversation)
        time.sleep(0.5)  # the state change reaches the socket's memory
        assert client.say("/order_status")[0]["text"]  # the bot's again


def test_a_malformed_event_gets_an_error_and_the_socket_goes_on(server: LiveServer) -> None:
    with RasaSocket(server) as client:
        client.sio.emit("user_uttered", {"message": "hi"})  # no session yet, none named
        assert client.next("error")["code"] == "expected_session"
        client.request_session()
        client.sio.emit("user_uttered", "just a string")
        assert client.next("error")["code"] == "bad_json"
        client.sio.emit("user_uttered", {"message": 42, "session_id": client.session_id})
        assert client.next("error")["code"] == "empty_text"
        client.sio.emit("user_uttered", {"message": "x" * 2001, "session_id": client.session_id})
        assert client.next("error")["code"] == "text_too_long"
        client.sio.emit("user_uttered", {"message": "hi", "session_id": client.session_id, "metadata": "x"})
        assert client.next("error")["code"] == "bad_field"
        client.sio.emit("session_request", {"session_id": ["not", "a", "string"]})
        assert client.next("error")["code"] == "bad_field"
        assert "Which order" in client.say("/order_status")[0]["text"]


def test_another_site_s_page_cannot_connect(server: LiveServer) -> None:
    # the handshake's first request, as a browser makes it (long-polling, with the page's origin)
    handshake = f"{server.url}/socket.io/?EIO=4&transport=polling"
    other = httpx.get(handshake, headers={"Origin": "https://elsewhere.example"}, timeout=30)
    assert other.status_code == 400 and "Access-Control-Allow-Origin" not in other.headers
    local = httpx.get(handshake, headers={"Origin": "http://localhost:3000"}, timeout=30)  # pages on this machine
    assert local.status_code == 200 and local.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_limits_per_socket_and_per_address(server: LiveServer) -> None:
    with RasaSocket(server) as client:
        client.request_session()
        for _ in range(9):
            client.sio.emit("user_uttered", {"message": "hello", "session_id": client.session_id})
        events = client.quiet(4.0)
        limited = [data for name, data in events if name == "error"]
        assert limited and limited[0]["code"] == "rate_limited" and limited[0]["retry_after"] >= 1
        assert len([name for name, _ in events if name == "bot_uttered"]) >= 6  # the burst was answered
    held = [RasaSocket(server) for _ in range(OPEN_PER_ADDRESS)]
    try:
        refused = refusal(server)
        assert refused["data"]["code"] == "too_many_connections" and refused["data"]["retry_after"] >= 1
    finally:
        for client in held:
            client.sio.disconnect()
    with RasaSocket(server) as again:  # one closed: room again
        assert again.request_session()
