"""Erasure and retention against a real server: admins erase over HTTP, open widgets and consoles learn it live,
the customer's token stops working, and the server's own retention pass removes what is old."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from bot.services.erasure import erase_conversations
from bot.settings import Settings
from bot.store.db import make_engine
from bot.store.erasure import erasure_of, existing
from bot.store.models import LoginAttempt, utcnow
from bot.store.transcripts import BotReplyRecord, TranscriptStore
from bot.workspace.accounts import Accounts
from tests.api.wsclient import Customer
from tests.conversations import make_idle
from tests.servers import LiveServer, start_server, stop_server

PASSWORD = "correct horse battery"
# the server's retention: 30 days, checked twice a second so a test sees a pass within its deadline
RETENTION = {"HELPLINE_RETENTION_DAYS": "30", "HELPLINE_RETENTION_INTERVAL_SECONDS": "0.5"}


@dataclass
class Admin:
    server: LiveServer
    store: TranscriptStore
    tokens: dict[str, str]

    def call(self, method: str, path: str, who: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.request(method, self.server.url + path, headers=headers, timeout=60, **kwargs)

    def erase(self, who: str, *ids: str) -> httpx.Response:
        return self.call("POST", "/api/admin/erasures", who, json={"conversation_ids": list(ids)})


def log_in(server: LiveServer, store: TranscriptStore) -> dict[str, str]:
    accounts = Accounts(store)
    accounts.add_agent("maya", PASSWORD, "agent", "Maya")
    accounts.add_agent("root", PASSWORD, "admin", "Ada")
    tokens = {}
    for name in ("maya", "root"):
        response = httpx.post(f"{server.url}/api/auth/login", json={"name": name, "password": PASSWORD}, timeout=30)
        assert response.status_code == 200, response.text
        tokens[name] = response.json()["token"]
    return tokens


@pytest.fixture(scope="module")
def admin(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Admin]:
    workdir = tmp_path_factory.mktemp("privacy")
    server = start_server(demo_data_dir, f"sqlite:///{workdir / 'helpline.db'}", workdir / "server.log", **RETENTION)
    engine = make_engine(server.database_url)
    store = TranscriptStore(engine)
    yield Admin(server, store, log_in(server, store))
    stop_server(server)
    engine.dispose()


def agent_socket(admin: Admin, who: str) -> ClientConnection:
    ws = connect(admin.server.ws_url.replace("/ws", "/agent/ws"),
                 additional_headers={"Authorization": f"Bearer {admin.tokens[who]}"}, open_timeout=30)
    assert json.loads(ws.recv(timeout=30))["type"] == "hello"
    return ws


def next_event(ws: ClientConnection, kind: str, conversation: str) -> dict[str, Any]:
    """The next agent event of ``kind`` about ``conversation`` (others are skipped)."""
    deadline = time.monotonic() + 30
    while True:
        event = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if event["type"] == kind and event.get("conversation_id") == conversation:
            return event


def closed_as_erased(customer: Customer) -> None:
    """The customer's socket says the conversation was erased, then closes as for a token that resumes nothing."""
    while (frame := customer.receive(timeout=30))["type"] != "error":
        pass
    assert frame["code"] == "erased", frame
    with pytest.raises(ConnectionClosed) as closed:
        customer.receive(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_agents_may_neither_erase_nor_read_the_record(admin: Admin) -> None:
    with Customer.open(admin.server.ws_url) as customer:
        conversation = customer.session["conversation_id"]
        customer.ask("hello there")
        refused = admin.erase("maya", conversation)
        assert refused.status_code == 403 and refused.json() == {"detail": "admins only"}
        assert admin.call("GET", "/api/admin/erasures", "maya").status_code == 403
    assert existing(admin.store, [conversation]) == {conversation}


def test_an_admin_erasure_closes_the_widget_drops_the_inbox_row_and_voids_the_token(admin: Admin) -> None:
    with Customer.open(admin.server.ws_url) as gone, Customer.open(admin.server.ws_url) as kept:
        erased_id, token = gone.session["conversation_id"], gone.session["token"]
        kept_id = kept.session["conversation_id"]
        reply = gone.ask("How long does a refund take?")
        gone.send({"type": "feedback", "reply_id": reply.start["reply_id"], "rating": "up"})
        assert gone.receive()["type"] == "feedback.ok"
        kept.ask("hello there")
        assert admin.call("POST", f"/api/agent/conversations/{erased_id}/notes", "maya",
                          json={"text": "called about a refund"}).status_code == 201
        console = agent_socket(admin, "maya")

        response = admin.erase("root", erased_id)

        assert response.status_code == 200, response.text
        body = response.json()
        [outcome] = body["conversations"]
        assert outcome["status"] == "erased" and outcome["conversation_id"] == erased_id
        assert outcome["erased_by"] == "admin:root"
        assert {k: outcome["counts"][k] for k in ("messages", "feedback", "notes", "conversations")} == {
            "messages": 2, "feedback": 1, "notes": 1, "conversations": 1}
        assert next_event(console, "conversation.erased", erased_id) == {
            "type": "conversation.erased", "conversation_id": erased_id}
        console.close()
        closed_as_erased(gone)
        assert kept.ask("thanks").start["route"] == "smalltalk"  # the other customer goes on

    with Customer.open(admin.server.ws_url, erased_id, token) as returning:
        assert returning.session["type"] == "error" and returning.session["code"] == "invalid_token"
    assert admin.call("GET", f"/api/agent/conversations/{erased_id}", "maya").status_code == 404
    inbox = admin.call("GET", "/api/agent/conversations", "maya").json()["items"]
    assert kept_id in [c["id"] for c in inbox] and erased_id not in [c["id"] for c in inbox]
    record = admin.call("GET", "/api/admin/erasures", "root")
    assert record.status_code == 200 and record.json()[0]["conversation_id"] == erased_id
    assert "refund" not in record.text.lower()  # neither the question, the answer nor the note

    again = admin.erase("root", erased_id)
    assert again.status_code == 200 and again.json()["conversations"][0]["status"] == "already_erased"
    assert again.json()["conversations"][0]["counts"] == outcome["counts"]
    unknown = admin.erase("root", kept_id, "0ff1ce")
    assert unknown.status_code == 404 and "0ff1ce" in unknown.json()["detail"]
    assert existing(admin.store, [kept_id]) == {kept_id}  # nothing of that request was erased
    assert admin.erase("root").status_code == 422


def test_a_widget_whose_conversation_a_command_erased_is_closed_at_its_next_message(
        admin: Admin, tmp_path: Path) -> None:
    with Customer.open(admin.server.ws_url) as customer:
        conversation = customer.session["conversation_id"]
        customer.ask("hello there")
        # `helpline customers erase` without Redis: another process, whose erasure no event carries to the server
        erase_conversations(Settings(data_dir=tmp_path, database_url=admin.server.database_url), [conversation],
                            "cli")
        customer.send({"type": "message", "text": "are you still there?", "id": "c2"})
        closed_as_erased(customer)
    assert existing(admin.store, [conversation]) == set()


def old_and_new(store: TranscriptStore) -> tuple[str, str]:
    """Data setup: a conversation idle for 40 days, one from today, and a login attempt 100 days old."""
    old, _ = store.open_conversation()
    new, _ = store.open_conversation()
    for conversation in (old, new):
        store.log_turn(conversation, "where is my parcel?", None, BotReplyRecord(
            f"r{conversation[:16]}", "It is on its way.", "orders", 0.9, route="faq"))
    make_idle(store, old, utcnow() - timedelta(days=40))
    with store.session() as session, session.begin():
        session.add(LoginAttempt(name="mallory", ok=False))
        session.flush()
        session.execute(update(LoginAttempt).where(LoginAttempt.name == "mallory")
                        .values(created_at=utcnow() - timedelta(days=100)))
    return old, new


def login_attempts(store: TranscriptStore, name: str) -> int:
    with store.session() as session:
        return len(session.scalars(select(LoginAttempt).where(LoginAttempt.name == name)).all())


def check_the_schedule(store: TranscriptStore) -> None:
    old, new = old_and_new(store)  # after start-up: only a later, scheduled pass can remove them
    wait_until(lambda: not existing(store, [old]) and not login_attempts(store, "mallory"))
    assert existing(store, [new]) == {new}
    record = erasure_of(store, old)
    assert record is not None and record.erased_by == "retention" and record.counts["messages"] == 2


def test_the_running_server_erases_idle_conversations_on_its_schedule(admin: Admin) -> None:
    check_the_schedule(admin.store)
    assert login_attempts(admin.store, "root") >= 1  # recent logins stay


def test_the_schedule_runs_on_postgresql_too(demo_data_dir: Path, postgres_url: str, tmp_path: Path) -> None:
    server = start_server(demo_data_dir, postgres_url, tmp_path / "server.log", **RETENTION)
    engine = make_engine(postgres_url)
    try:
        check_the_schedule(TranscriptStore(engine))
    finally:
        stop_server(server)
        engine.dispose()
