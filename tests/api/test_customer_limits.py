"""The customer socket's limits, from outside: a real server with small limits, real clients on 127.0.0.1.

The server trusts X-Forwarded-For from 127.0.0.1 (the tests play the reverse proxy), so each test is a visitor
at an address of its own and the per-address limits of one test do not reach another.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from bot.store.db import make_engine
from bot.store.models import Conversation, Message, utcnow
from bot.store.transcripts import TranscriptStore
from tests.api.wsclient import Customer
from tests.servers import LiveServer, start_server, stop_server

LIMITS = {
    "HELPLINE_TRUSTED_PROXIES": "127.0.0.1", "HELPLINE_MESSAGES_PER_MINUTE": "6", "HELPLINE_FRAME_BURST": "3",
    "HELPLINE_CONNECTIONS_PER_MINUTE": "4", "HELPLINE_CONVERSATIONS_PER_MINUTE": "2",
    "HELPLINE_CONNECTIONS_PER_ADDRESS": "3", "HELPLINE_HANDSHAKE_SECONDS": "1", "HELPLINE_MAX_FRAME_BYTES": "8192",
    "HELPLINE_MAX_BODY_BYTES": "65536", "HELPLINE_ALLOWED_ORIGINS": "https://shop.example",
    "HELPLINE_STREAM_DELAY_MS": "0",
}
addresses = (f"203.0.113.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def server(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("limits")
    live = start_server(demo_data_dir, f"sqlite:///{workdir / 'helpline.db'}", workdir / "server.log",
                        log_level="info", **LIMITS)
    yield live
    stop_server(live)


@pytest.fixture
def visitor() -> dict[str, str]:
    """The headers of a visitor at an address no other test uses."""
    return {"X-Forwarded-For": next(addresses)}


def store_of(server: LiveServer) -> TranscriptStore:
    return TranscriptStore(make_engine(server.database_url))


def count(server: LiveServer, table: Any, **where: Any) -> int:
    with store_of(server).session() as session:
        return session.query(table).filter_by(**where).count()


def refusal(customer: Customer) -> tuple[dict[str, Any], int | None]:
    """The error frame a refused socket gets, and the code it is then closed with."""
    frame = customer.receive(timeout=10)
    with pytest.raises(ConnectionClosed) as closed:
        customer.receive(timeout=10)
    return frame, closed.value.rcvd.code if closed.value.rcvd else None


def test_a_burst_of_messages_is_answered_up_to_the_limit_and_the_rest_refused_at_once(
        server: LiveServer, visitor: dict[str, str]) -> None:
    with Customer.open(server.ws_url, **visitor) as customer:
        for n in range(12):  # all at once, as a script would
            customer.send({"type": "message", "text": "How long does a refund take?", "id": f"m{n}"})
        answered, refused = [], []
        while len(answered) + len(refused) < 12:
            frame = customer.receive()
            if frame["type"] == "reply.end":
                answered.append(frame)
            elif frame["type"] == "error":
                assert frame["code"] == "rate_limited" and frame["retry_after"] > 0, frame
                refused.append(frame["in_reply_to"])
        assert len(answered) == 3 and len(refused) == 9  # the burst, then nothing until tokens come back
        customer.send({"type": "ping"})
        assert customer.receive()["type"] == "pong"  # the socket is still usable
        conversation = customer.session["conversation_id"]
    stored = count(server, Message, conversation_id=conversation, role="customer")
    assert stored == 3, "refused messages were never acknowledged, so none may be stored"


def test_an_oversized_or_malformed_frame_gets_an_error_and_the_socket_goes_on(
        server: LiveServer, visitor: dict[str, str]) -> None:
    with Customer.open(server.ws_url, **visitor) as customer:
        customer.send(json.dumps({"type": "message", "text": "x" * 1000, "pad": "y" * 9000}))
        assert customer.receive()["code"] == "frame_too_large"
        customer.send("[" * 4000 + "]" * 4000)  # deeper than the JSON parser recurses
        assert customer.receive()["code"] == "bad_json"
        customer.send('{"type": "message", "text": "hi", "id": 1' + "0" * 5000 + "}")  # a number too long
        assert customer.receive()["code"] == "bad_json"
        assert customer.ask("Do you ship to Norway?").end["text"]
        customer.send({"type": "start"})  # the burst of other frames is spent on the three above
        assert customer.receive()["code"] == "rate_limited"


def test_an_address_may_open_only_so_many_sockets_a_minute(server: LiveServer, visitor: dict[str, str]) -> None:
    for _ in range(4):
        Customer.open(server.ws_url, **visitor).close()
    refused = Customer.connect(server.ws_url, **visitor)
    frame, code = refusal(refused)
    assert frame["code"] == "too_many_connections" and frame["retry_after"] > 0 and code == 1013
    with Customer.open(server.ws_url, **{"X-Forwarded-For": next(addresses)}) as other:  # others are not held up
        assert other.session["type"] == "session"


def test_an_address_may_hold_only_so_many_sockets_open(server: LiveServer, visitor: dict[str, str]) -> None:
    first = Customer.open(server.ws_url, **visitor)  # one conversation in three tabs
    session = first.session
    held = [first, *(Customer.open(server.ws_url, session["conversation_id"], session["token"], **visitor)
                     for _ in range(2))]
    assert all(customer.session["type"] == "session" for customer in held)
    frame, code = refusal(Customer.connect(server.ws_url, **visitor))
    assert frame["code"] == "too_many_connections" and code == 1013
    for customer in held:
        customer.close()


def test_an_address_may_start_only_so_many_conversations_a_minute(server: LiveServer, visitor: dict[str, str]) -> None:
    first = Customer.open(server.ws_url, **visitor)
    first.close()
    Customer.open(server.ws_url, **visitor).close()
    third = Customer.connect(server.ws_url, **visitor)
    third.send({"type": "start"})
    frame, code = refusal(third)
    assert frame["code"] == "too_many_conversations" and code == 1013
    session = first.session  # going on with a conversation is not starting one
    with Customer.open(server.ws_url, session["conversation_id"], session["token"], **visitor) as resumed:
        assert resumed.session["resumed"] is True


def test_a_socket_that_never_says_start_is_closed_and_leaves_nothing(server: LiveServer,
                                                                     visitor: dict[str, str]) -> None:
    before = count(server, Conversation)
    frame, code = refusal(Customer.connect(server.ws_url, **visitor))
    assert frame["code"] == "handshake_timeout" and code == 1008
    assert count(server, Conversation) == before


def test_before_start_a_flood_of_bad_frames_gets_only_a_burst_of_errors(server: LiveServer,
                                                                         visitor: dict[str, str]) -> None:
    customer = Customer.connect(server.ws_url, **visitor)
    for n in range(20):  # a script that never says start: each frame costs the server a parse, not a reply
        customer.send({"type": "ping"} if n % 2 else "{not json")
    customer.send({"type": "start"})
    frames = []
    while not frames or frames[-1]["type"] != "session":
        frames.append(customer.receive(timeout=10))
    errors = [frame["code"] for frame in frames[:-1]]
    assert set(errors) <= {"bad_json", "expected_session"} and 1 <= len(errors) <= 3 + 1, errors  # the burst (3)
    assert customer.ask("Do you ship to Norway?").end["text"]  # and the socket goes on
    customer.close()


def test_only_allowed_pages_may_open_the_chat(server: LiveServer, visitor: dict[str, str]) -> None:
    frame, code = refusal(Customer.connect(server.ws_url, Origin="https://evil.example", **visitor))
    assert frame["code"] == "origin_not_allowed" and code == 1008
    for origin in ("https://shop.example", server.url):  # the listed shop, and the server's own pages
        with Customer.open(server.ws_url, Origin=origin, **{"X-Forwarded-For": next(addresses)}) as customer:
            assert customer.session["type"] == "session"


def test_a_resume_token_is_never_in_the_access_log(server: LiveServer, visitor: dict[str, str]) -> None:
    with Customer.open(server.ws_url, **visitor) as first:
        session = first.session
    with Customer.open(server.ws_url, session["conversation_id"], session["token"], **visitor):
        pass
    with Customer.connect(f"{server.ws_url}?token=leaked-by-an-old-client", **visitor):
        pass
    log = server.log.read_text()
    assert "WebSocket /ws" in log  # the access log is on
    assert session["token"] not in log and "leaked-by-an-old-client" not in log


def test_a_resume_token_stops_working_after_the_idle_time(server: LiveServer, visitor: dict[str, str]) -> None:
    with Customer.open(server.ws_url, **visitor) as customer:
        session = customer.session
        customer.ask("Do you ship to Norway?")
    engine = make_engine(server.database_url)
    with engine.begin() as connection:  # 31 days pass without a word (the default idle time is 30 days)
        connection.execute(Conversation.__table__.update().where(Conversation.id == session["conversation_id"])
                           .values(updated_at=utcnow() - timedelta(days=31)))
    stale = Customer.connect(server.ws_url, **visitor)
    stale.send({"type": "resume", "conversation_id": session["conversation_id"], "token": session["token"]})
    frame, code = refusal(stale)
    assert frame["code"] == "token_expired" and code == 4401


def test_an_oversized_body_is_refused_before_it_is_read(server: LiveServer) -> None:
    login = f"{server.url}/api/auth/login"
    declared = httpx.post(login, content=b"{" + b" " * 70_000 + b"}", headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and "limit" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'", "password": "x"}'

    streamed = httpx.post(login, content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    untyped = httpx.post(login, content=b'{"name": "a", "password": "b"}')  # JSON without its content type
    assert untyped.status_code == 422


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(demo_data_dir: Path, tmp_path: Path) -> None:
    lone = start_server(demo_data_dir, f"sqlite:///{tmp_path / 'helpline.db'}", tmp_path / "server.log",
                        HELPLINE_CONNECTIONS_PER_MINUTE="2", HELPLINE_CONVERSATIONS_PER_MINUTE="100")
    try:
        for n in range(2):
            Customer.open(lone.ws_url, **{"X-Forwarded-For": f"198.51.100.{n}"}).close()
        spoofed = Customer.connect(lone.ws_url, **{"X-Forwarded-For": "198.51.100.99"})
        frame, _ = refusal(spoofed)
        assert frame["code"] == "too_many_connections", "a made-up X-Forwarded-For escaped the limit"
    finally:
        stop_server(lone)
