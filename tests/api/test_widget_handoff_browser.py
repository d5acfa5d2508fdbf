"""Live handoff as the customer sees it: the widget in headless Chromium, a real agent over the HTTP API
and the agent socket, all against one real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect
from websockets.sync.client import ClientConnection, connect

from tests.api.conftest import PageLog
from tests.api.widget_page import (
    REFUND_QUESTION,
    REFUND_TIMING,
    answered,
    ask,
    bot_messages,
    customer_messages,
    open_demo,
    stored_session,
)
from tests.servers import ROOT, LiveServer, start_server, stop_server

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
EVENT_TIMEOUT_S = 20.0


# ---------------------------------------------------------------- the agent's side, over the real API


@dataclass
class AgentSocket:
    """The agent socket `/agent/ws`, read until the event a test waits for (others are kept)."""

    ws: ClientConnection
    seen: list[dict[str, Any]] = field(default_factory=list)

    def send(self, frame: dict[str, Any]) -> None:
        self.ws.send(json.dumps(frame))

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = EVENT_TIMEOUT_S) -> dict[str, Any]:
        for event in self.seen:
            if match(event):
                return event
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                break
            self.seen.append(event)
            if match(event):
                return event
        raise AssertionError(f"no matching event within {timeout} s; seen: {[e.get('type') for e in self.seen]}")

    def drain(self, seconds: float) -> None:
        """Read whatever arrives within ``seconds`` into ``seen``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.seen.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return


@dataclass
class Agent:
    """One logged-in agent driving the real HTTP API with a bearer token."""

    server: LiveServer
    token: str
    http: httpx.Client

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(f"{self.server.url}{path}", json=body)
        assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text}"
        result: dict[str, Any] = response.json()
        return result

    def accept(self, conversation: str) -> dict[str, Any]:
        return self.post(f"/api/agent/conversations/{conversation}/accept")

    def say(self, conversation: str, text: str) -> dict[str, Any]:
        return self.post(f"/api/agent/conversations/{conversation}/messages", {"text": text})

    def hand_back(self, conversation: str) -> dict[str, Any]:
        return self.post(f"/api/agent/conversations/{conversation}/handback")

    def close(self, conversation: str) -> dict[str, Any]:
        return self.post(f"/api/agent/conversations/{conversation}/close")

    def transcript(self, conversation: str) -> dict[str, Any]:
        response = self.http.get(f"{self.server.url}/api/agent/conversations/{conversation}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def socket(self) -> AgentSocket:
        ws_base = self.server.url.replace("http://", "ws://", 1)
        agent_ws = AgentSocket(connect(f"{ws_base}/agent/ws", open_timeout=30,
                                       additional_headers={"Authorization": f"Bearer {self.token}"}))
        agent_ws.wait_for(lambda e: e.get("type") == "hello")
        return agent_ws


@pytest.fixture(scope="module")
def server(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of this module's own, on a fresh SQLite database."""
    workdir = tmp_path_factory.mktemp("handoff")
    live = start_server(demo_data_dir, f"sqlite:///{workdir / 'helpline.db'}", workdir / "server.log")
    yield live
    stop_server(live)


@pytest.fixture(scope="module")
def maya(server: LiveServer) -> Iterator[Agent]:
    """Agent Maya, created with `helpline agents add` (password on stdin) and logged in over the API."""
    env = {"HELPLINE_DATA_DIR": str(server.data_dir), "HELPLINE_DATABASE_URL": server.database_url}
    added = subprocess.run(
        [sys.executable, "-m", "api.cli", "agents", "add", "maya", "--role", "agent", "--display-name", "Maya"],
        input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env}, timeout=120,
    )
    assert added.returncode == 0, added.stderr
    login = httpx.post(f"{server.url}/api/auth/login", json={"name": "maya", "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        yield Agent(server, token, http)


@pytest.fixture
def agent_socket(maya: Agent) -> Iterator[AgentSocket]:
    sock = maya.socket()
    yield sock
    sock.ws.close()


# ---------------------------------------------------------------- what the customer sees


def system_lines(page: Page) -> Locator:
    return page.get_by_test_id("helpline-system")


def agent_messages(page: Page) -> Locator:
    return page.locator('[data-testid="helpline-message"][data-role="agent"]')


def for_conversation(conversation: str, kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    def match(event: dict[str, Any]) -> bool:
        if event.get("type") != kind:
            return False
        where = event.get("conversation_id") or (event.get("conversation") or {}).get("id")
        return where == conversation and all(event.get(k) == v for k, v in fields.items())

    return match


def test_a_person_takes_over_and_hands_back_to_the_bot(
    page: Page, server: LiveServer, maya: Agent, agent_socket: AgentSocket, page_log: PageLog
) -> None:
    open_demo(page, server)
    banner = page.get_by_test_id("helpline-handoff-banner")
    expect(banner).to_be_hidden()

    ask(page, "I want to talk to a person")

    expect(answered(page, 1)).to_have_attribute("data-route", "handoff")  # the bot says it is fetching someone
    expect(banner).to_be_visible()
    expect(banner).to_have_text("Waiting for an agent…")
    conversation = stored_session(page, server)["conversation_id"]
    agent_socket.wait_for(for_conversation(conversation, "handoff.requested", reason="asked"))

    maya.accept(conversation)

    expect(system_lines(page).last).to_have_text("Maya joined")
    expect(banner).to_be_hidden()
    expect(page.get_by_test_id("helpline-subtitle")).to_have_text("You're chatting with Maya")

    agent_socket.send({"type": "typing", "conversation_id": conversation, "active": True})
    expect(page.get_by_test_id("helpline-agent-typing")).to_be_visible()
    expect(page.get_by_test_id("helpline-agent-typing")).to_have_text("Maya is typing…")

    maya.say(conversation, "Hi, I'm Maya. <img src=x onerror=alert(1)> What went wrong?")

    said = agent_messages(page).last
    expect(said).to_contain_text("Hi, I'm Maya. <img src=x onerror=alert(1)> What went wrong?")
    expect(said.get_by_test_id("helpline-message-author")).to_have_text("Maya")
    expect(page.get_by_test_id("helpline-agent-typing")).to_be_hidden()
    assert page.locator('[data-testid="helpline-root"] img').count() == 0

    box = page.get_by_test_id("helpline-input")
    box.press_sequentially("My parcel never came", delay=20)
    agent_socket.wait_for(for_conversation(conversation, "typing", role="customer", active=True))
    box.press("Enter")

    expect(customer_messages(page).last).to_have_text("My parcel never came")
    expect(customer_messages(page).last).to_have_attribute("data-state", "delivered")
    agent_socket.wait_for(lambda e: e.get("type") == "message" and e["message"]["text"] == "My parcel never came")
    agent_socket.wait_for(for_conversation(conversation, "typing", role="customer", active=False))
    page.wait_for_timeout(1500)  # time enough for a bot reply, were one coming
    expect(page.get_by_test_id("helpline-typing")).to_be_hidden()
    expect(bot_messages(page)).to_have_count(2)  # the welcome and the handoff reply; nothing new
    roles = [m["role"] for m in maya.transcript(conversation)["messages"]]
    assert roles[-1] == "customer", roles

    maya.hand_back(conversation)

    expect(system_lines(page).last).to_have_text("You're back with the bot")
    ask(page, REFUND_QUESTION)
    expect(answered(page, 2)).to_contain_text(REFUND_TIMING)

    page.reload()

    expect(system_lines(page)).to_have_text(["Maya joined", "You're back with the bot"])
    expect(agent_messages(page)).to_have_count(1)
    expect(agent_messages(page).first).to_have_attribute("data-agent", "Maya")
    expect(agent_messages(page).first.get_by_test_id("helpline-message-author")).to_have_text("Maya")
    expect(customer_messages(page)).to_have_text(
        ["I want to talk to a person", "My parcel never came", REFUND_QUESTION]
    )
    expect(answered(page, 2)).to_contain_text(REFUND_TIMING)
    expect(page.get_by_test_id("helpline-error")).to_be_hidden()
    assert page.locator('[data-testid="helpline-root"] img').count() == 0
    assert page_log.dialogs == []


def test_an_agent_can_take_over_and_close_and_the_bot_answers_next(page: Page, server: LiveServer, maya: Agent) -> None:
    open_demo(page, server)
    ask(page, REFUND_QUESTION)
    answered(page, 1)
    conversation = stored_session(page, server)["conversation_id"]

    maya.accept(conversation)  # straight from the bot: no request needed
    expect(system_lines(page).last).to_have_text("Maya joined")
    expect(page.get_by_test_id("helpline-handoff-banner")).to_be_hidden()
    maya.close(conversation)

    expect(system_lines(page).last).to_have_text("This conversation was closed")
    expect(page.get_by_test_id("helpline-subtitle")).to_have_text("We usually answer right away")
    ask(page, "Do you ship to Norway?")  # a new message reopens it with the bot
    expect(answered(page, 2)).to_contain_text("Norway")


def test_two_fallbacks_in_a_row_bring_the_waiting_banner(page: Page, server: LiveServer, maya: Agent) -> None:
    open_demo(page, server)
    ask(page, "tell me a joke")
    expect(answered(page, 1)).to_have_attribute("data-route", "fallback")
    expect(page.get_by_test_id("helpline-handoff-banner")).to_be_hidden()

    ask(page, "tell me another joke")

    expect(answered(page, 2)).to_have_attribute("data-route", "handoff")
    expect(page.get_by_test_id("helpline-handoff-banner")).to_be_visible()
    ask(page, "hello?")  # while waiting the bot stays silent: the message is only delivered
    expect(customer_messages(page).last).to_have_attribute("data-state", "delivered")
    expect(page.get_by_test_id("helpline-typing")).to_be_hidden()

    page.reload()  # the session frame carries the state
    expect(page.get_by_test_id("helpline-handoff-banner")).to_be_visible()
    expect(bot_messages(page)).to_have_count(3)  # the welcome and two replies, none for "hello?"


def test_customer_typing_is_sent_at_most_every_two_seconds(
    page: Page, server: LiveServer, agent_socket: AgentSocket
) -> None:
    open_demo(page, server)
    conversation = stored_session(page, server)["conversation_id"]
    box = page.get_by_test_id("helpline-input")

    started = time.monotonic()
    box.press_sequentially("Where is my order? It was due last week.", delay=110)
    typed_for = time.monotonic() - started
    box.fill("")  # emptied: the customer stopped
    agent_socket.wait_for(for_conversation(conversation, "typing", active=False))

    typing = [e["active"] for e in agent_socket.seen if for_conversation(conversation, "typing")(e)]
    trues = typing.count(True)
    assert typed_for > 4, typed_for
    assert 2 <= trues <= typed_for / 2 + 1, (trues, typed_for, typing)
    assert typing[-1] is False and typing.count(False) == 1, typing
    expect(page.get_by_test_id("helpline-error")).to_be_hidden()  # the server knew the frame
