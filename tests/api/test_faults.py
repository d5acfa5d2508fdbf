"""Faults from outside, with real processes: the database stops under chatting customers, the server is killed,
or told to stop. Each test compares what the customers sent with what ended up stored."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bot.store.db import make_engine
from bot.store.models import Message
from bot.store.transcripts import TranscriptStore
from tests.api.wsclient import Customer, Streamed
from tests.servers import LiveServer, add_agents, start_server, stop_server
from tests.services import PrivatePostgres, PrivateRedis

pytestmark = pytest.mark.slow
QUESTIONS = ["How long does a refund take?", "Do you ship to Norway?", "Can I pay with PayPal?",
             "How do I reset my password?", "Is there a warranty on tents?"]


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres.create()
    yield cluster
    cluster.remove()


def serve(data_dir: Path, database_url: str, workdir: Path, **env: str) -> LiveServer:
    return start_server(data_dir, database_url, workdir / f"server-{time.monotonic_ns()}.log",
                        HELPLINE_STREAM_DELAY_MS="0", HELPLINE_JOURNAL_PATH=str(workdir / "journal.db"), **env)


def wait_for(what: Callable[[], Any], done: Callable[[Any], bool], seconds: float = 60) -> Any:
    """Poll ``what`` until ``done`` says so (the last value otherwise, for the failure message)."""
    deadline, value = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        try:
            value = what()
            if done(value):
                return value
        except (httpx.TransportError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting; last: {value}")


def health(server: LiveServer) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/health", timeout=5)
    return {"code": response.status_code, **response.json()}


def stored(database_url: str, conversation: str) -> list[tuple[str, str]]:
    """(role, text) of every stored message of the conversation, in order."""
    engine = make_engine(database_url)
    try:
        with TranscriptStore(engine).session() as session:
            return [(m.role, m.text) for m in session.query(Message).filter_by(conversation_id=conversation)
                    .order_by(Message.id)]
    finally:
        engine.dispose()


class Chatter:
    """A customer who keeps a record of everything the server acknowledged (a reply began)."""

    def __init__(self, server: LiveServer) -> None:
        self.customer = Customer.open(server.ws_url)
        self.conversation = self.customer.session["conversation_id"]
        self.token = self.customer.session["token"]
        self.acknowledged: list[str] = []

    def ask(self, text: str) -> Streamed:
        answer = self.customer.ask(text)
        self.acknowledged.append(text)
        return answer

    def expected(self) -> list[tuple[str, str]]:
        return [("customer", text) for text in self.acknowledged]


def customer_rows(database_url: str, chatter: Chatter) -> list[tuple[str, str]]:
    return [row for row in stored(database_url, chatter.conversation) if row[0] == "customer"]


def test_customers_are_answered_through_a_database_outage_and_nothing_is_lost(
        demo_data_dir: Path, tmp_path: Path, postgres: PrivatePostgres) -> None:
    server = serve(demo_data_dir, postgres.url, tmp_path)
    try:
        early = [Chatter(server) for _ in range(3)]
        for n, chatter in enumerate(early):
            assert chatter.ask(QUESTIONS[n]).text
        postgres.stop()  # as a crash stops it

        for n, chatter in enumerate(early):  # the customers go on, and are answered
            for question in QUESTIONS[n + 1:n + 3]:
                assert chatter.ask(question).text
        newcomer = Chatter(server)  # a new customer too
        assert newcomer.ask(QUESTIONS[4]).text
        during = health(server)
        assert during["code"] == 200 and during["status"] == "degraded" and during["database"] == "unreachable"
        assert during["journal"] == 8 and "127.0.0.1" not in str(during)  # six turns, a conversation and its turn
        resumed = Customer.open(server.ws_url, early[0].conversation, early[0].token)
        assert resumed.session == {"type": "error", "code": "unavailable",
                                   "message": resumed.session["message"]}  # told to come back, not refused

        postgres.start()
        wait_for(lambda: health(server), lambda body: body["status"] == "ok" and body["journal"] == 0)
        for chatter in [*early, newcomer]:
            assert customer_rows(postgres.url, chatter) == chatter.expected()  # each once, in order
            replies = [row for row in stored(postgres.url, chatter.conversation) if row[0] == "bot"]
            assert len(replies) == len(chatter.acknowledged)
        again = Customer.open(server.ws_url, early[0].conversation, early[0].token)
        assert [item["text"] for item in again.session["history"] if item["role"] == "customer"] == \
            early[0].acknowledged
        for chatter in [*early, newcomer]:
            chatter.customer.close()
        again.close()
    finally:
        stop_server(server)


def test_a_killed_server_loses_no_acknowledged_message(demo_data_dir: Path, tmp_path: Path,
                                                       postgres: PrivatePostgres) -> None:
    server = serve(demo_data_dir, postgres.url, tmp_path)
    chatter = Chatter(server)
    chatter.ask(QUESTIONS[0])
    postgres.stop()
    chatter.ask(QUESTIONS[1])  # acknowledged while only the journal has it
    chatter.ask(QUESTIONS[2])
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    postgres.start()

    restarted = serve(demo_data_dir, postgres.url, tmp_path)  # the same journal
    try:
        wait_for(lambda: health(restarted), lambda body: body["status"] == "ok" and body["journal"] == 0)
        assert customer_rows(postgres.url, chatter) == chatter.expected()
        with Customer.open(restarted.ws_url, chatter.conversation, chatter.token) as resumed:
            assert resumed.session["resumed"] is True
            assert resumed.ask(QUESTIONS[3]).text  # the conversation goes on
    finally:
        stop_server(restarted)


def test_sigterm_finishes_replies_then_sends_the_widget_elsewhere(demo_data_dir: Path, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'helpline.db'}"
    server = start_server(demo_data_dir, database, tmp_path / "server.log", HELPLINE_STREAM_DELAY_MS="150",
                          HELPLINE_SHUTDOWN_GRACE_SECONDS="30")
    customer = Customer.open(server.ws_url)
    conversation, token = customer.session["conversation_id"], customer.session["token"]
    for n, question in enumerate(QUESTIONS[:3]):  # three at once: one streams, two wait in the queue
        customer.send({"type": "message", "text": question, "id": f"q{n}"})
    first = customer.receive()
    assert first["type"] == "reply.start"
    server.process.send_signal(signal.SIGTERM)  # mid-stream

    frames = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            frames.append(customer.receive(timeout=30))
    started = [first["in_reply_to"], *(f["in_reply_to"] for f in frames if f["type"] == "reply.start")]
    assert started == ["q0", "q1", "q2"], frames
    assert len([frame for frame in frames if frame["type"] == "reply.end"]) == 3, frames  # every reply owed, whole
    assert frames[-1]["type"] == "reconnect" and closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    assert server.process.wait(timeout=30) is not None

    again = start_server(demo_data_dir, database, tmp_path / "again.log")  # the replica it reconnects to
    try:
        with Customer.open(again.ws_url, conversation, token) as resumed:
            said = [item["text"] for item in resumed.session["history"] if item["role"] == "customer"]
            assert said == QUESTIONS[:3]
    finally:
        stop_server(again)


def next_frame(customer: Customer, kind: str, seconds: float = 30) -> dict[str, Any]:
    """The next frame of ``kind`` (others are passed over)."""
    deadline = time.monotonic() + seconds
    while True:
        frame = customer.receive(timeout=max(0.1, deadline - time.monotonic()))
        if frame["type"] == kind:
            return frame


def test_customers_keep_chatting_through_a_redis_outage_and_a_handoff_goes_on(
        demo_data_dir: Path, tmp_path: Path, postgres_url: str) -> None:
    redis_server = PrivateRedis.create()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    add_agents(postgres_url, "correct horse battery", "maya")
    customer_side = serve(demo_data_dir, postgres_url, tmp_path / "a", HELPLINE_REDIS_URL=redis_server.url)
    agent_side = serve(demo_data_dir, postgres_url, tmp_path / "b", HELPLINE_REDIS_URL=redis_server.url)
    try:
        login = httpx.post(f"{agent_side.url}/api/auth/login", json={"name": "maya",
                                                                      "password": "correct horse battery"})
        api = httpx.Client(base_url=agent_side.url, headers={"Authorization": f"Bearer {login.json()['token']}"})
        customer = Customer.open(customer_side.ws_url)
        conversation = customer.session["conversation_id"]
        assert customer.ask(QUESTIONS[0]).text
        redis_server.stop()

        assert customer.ask(QUESTIONS[1]).text  # still answered
        with Customer.open(customer_side.ws_url) as newcomer:  # and new customers too
            assert newcomer.ask(QUESTIONS[2]).text
        assert customer.ask("I want to talk to a person").start["route"] == "handoff"
        assert next_frame(customer, "state")["state"] == "waiting"
        accepted = api.post(f"/api/agent/conversations/{conversation}/accept")  # on the other server
        assert accepted.status_code == 200, accepted.text
        assert next_frame(customer, "state") == {"type": "state", "state": "agent", "agent": "Maya"}
        api.post(f"/api/agent/conversations/{conversation}/messages", json={"text": "Maya here, during the outage."})
        assert next_frame(customer, "agent.message")["text"] == "Maya here, during the outage."
        agent_ws = connect(agent_side.ws_url.replace("/ws", "/agent/ws"), open_timeout=30,
                           additional_headers={"Authorization": api.headers["Authorization"]})
        seen = [json.loads(agent_ws.recv(timeout=30))["type"] for _ in range(2)]
        assert seen == ["hello", "refresh"]  # the console is told to read the database instead
        agent_ws.close()

        redis_server.start()  # back: the sockets subscribe again, and live events cross servers once more
        wait_for(lambda: httpx.get(f"{customer_side.url}/health").json(), lambda body: body["status"] == "ok")
        api.post(f"/api/agent/conversations/{conversation}/messages", json={"text": "And after it."})
        assert next_frame(customer, "agent.message")["text"] == "And after it."
        customer.close()
        api.close()
    finally:
        stop_server(customer_side)
        stop_server(agent_side)
        redis_server.stop()
