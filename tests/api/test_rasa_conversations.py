"""Conversations answered by custom actions: a real server, a real rasa-sdk action server, a real WebSocket.

The demo company's Rasa side (its domain, rules and the actions in demo/actions), with a few rules of the
tests' own that run actions which misbehave. Messages that must reach a given rule whatever the small test
model makes of them are sent as button payloads (``/intent``), as the widget sends a pressed button.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.store.db import make_engine
from bot.store.transcripts import TranscriptStore
from tests.api.rasa_company import rasa_company
from tests.api.wsclient import Customer, Streamed
from tests.servers import ActionServerProcess, LiveServer, free_port, start_server, stop_server


@pytest.fixture(scope="module")
def rasa_server(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path,
                action_server: ActionServerProcess) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("rasa")
    data_dir = rasa_company(root, demo_data_dir)
    server = start_server(data_dir, f"sqlite:///{root / 'helpline.db'}", root / "server.log",
                          HELPLINE_ACTION_ENDPOINT_URL=action_server.url, HELPLINE_ACTION_TIMEOUT_S="2",
                          HELPLINE_STREAM_DELAY_MS="0")
    yield server
    stop_server(server)


def replies(customer: Customer, text: str, count: int) -> list[Streamed]:
    """Send ``text`` and read the ``count`` replies it gets (a custom action may say several things)."""
    got = [customer.ask(text)]
    while len(got) < count:
        got.append(customer.read_reply())
    return got


def events_of(server: LiveServer, conversation: str) -> list[dict[str, Any]]:
    return TranscriptStore(make_engine(server.database_url)).rasa_events(conversation)


def test_order_status_asks_which_order_then_tells_it(rasa_server: LiveServer) -> None:
    with Customer.open(rasa_server.ws_url) as customer:
        asked = customer.ask("/order_status")
        assert asked.start["route"] == "action" and asked.start["action"] == "order_status_form"
        assert "Which order" in asked.text
        told = customer.ask("it's 4471")
        assert told.start["route"] == "action" and told.start["action"] == "action_order_status"
        assert "on its way with DHL" in told.text
        # a number in the first message: no question
        direct = customer.ask("/order_status{\"order_id\": \"5120\"}")
        assert direct.start["action"] == "action_order_status" and "being packed" in direct.text


def test_an_order_question_in_words_reaches_the_action(rasa_server: LiveServer) -> None:
    with Customer.open(rasa_server.ws_url) as customer:
        told = customer.ask("where is my order 4471?")
    assert told.start["route"] == "action" and told.start["intent"] == "order_status"
    assert "4471" in told.text and "on its way" in told.text


def test_a_pressed_button_no_rule_claims_gets_its_route(rasa_server: LiveServer) -> None:
    with Customer.open(rasa_server.ws_url) as customer:
        answer = customer.ask("/deny")  # "No" pressed long after its question: nothing runs for it
    assert answer.start["route"] == "fallback" and answer.text


def test_the_return_form_refuses_an_unknown_order_then_takes_a_good_one(rasa_server: LiveServer) -> None:
    with Customer.open(rasa_server.ws_url) as customer:
        first = customer.ask("/return_item")
        assert "Which order" in first.text and first.start["action"] == "return_form"
        refused, again = replies(customer, "9999", 2)
        assert "can't find an order 9999" in refused.text and refused.start["action"] == "return_form"
        assert "Which order" in again.text
        reason = customer.ask("order 3302")
        assert "reason" in reason.text
        confirm = customer.ask("the boots are too small")
        assert "Shall I register the return of order 3302" in confirm.text
        assert [b["payload"] for b in confirm.end["buttons"]] == ["/affirm", "/deny"]
        done = customer.ask("/affirm")
        assert done.start["action"] == "action_submit_return" and "3302" in done.text
        conversation, token = customer.session["conversation_id"], customer.session["token"]
    kinds = [(e["event"], e.get("name")) for e in events_of(rasa_server, conversation)]
    assert ("active_loop", "return_form") in kinds and ("active_loop", None) in kinds
    assert ("action", "action_submit_return") in kinds
    with Customer.open(rasa_server.ws_url, conversation, token) as back:  # slots and buttons survive a reconnect
        shown = [m for m in back.session["history"] if m.get("buttons")]
        assert shown and shown[0]["buttons"][0]["title"] == "Yes, please"
        status = back.ask("/order_status")  # the order is remembered: no question
    assert status.start["action"] == "action_order_status" and "3302" in status.text


def test_never_mind_leaves_the_form(rasa_server: LiveServer) -> None:
    with Customer.open(rasa_server.ws_url) as customer:
        customer.ask("/return_item")
        left = customer.ask("never mind")
        assert left.start["route"] == "action" and "stopped" in left.text
        conversation = customer.session["conversation_id"]
    tracker = [(e["event"], e.get("name", e.get("text"))) for e in events_of(rasa_server, conversation)]
    left_at = tracker.index(("action", "action_deactivate_loop"))
    assert tracker[left_at:] == [("action", "action_deactivate_loop"), ("active_loop", None),
                                 ("slot", "requested_slot"), ("bot", left.text), ("action", "action_listen")]


def test_asking_for_a_person_leaves_the_form_and_hands_over(rasa_server: LiveServer) -> None:
    with Customer.open(rasa_server.ws_url) as customer:
        customer.ask("/return_item")
        handed = customer.ask("can I talk to a real person please")
        assert handed.start["route"] == "handoff" and handed.start["intent"] == "human_agent"
        assert customer.receive()["state"] == "waiting"
        conversation = customer.session["conversation_id"]
    kinds = [(e["event"], e.get("name")) for e in events_of(rasa_server, conversation)]
    assert kinds.index(("action", "action_deactivate_loop")) < kinds.index(("active_loop", None))


@pytest.mark.parametrize(("intent", "route", "says"), [
    ("test_reject", "fallback", "not completely sure"),  # HTTP 400: a rejection, then the fallback
    ("test_crash", "action", "ask for a person"),  # HTTP 500
    ("test_missing", "action", "ask for a person"),  # HTTP 404: no such action
    ("test_slow", "action", "ask for a person"),  # no answer within the 2-s timeout
])
def test_a_failing_action_still_gets_the_customer_an_answer(rasa_server: LiveServer, intent: str, route: str,
                                                             says: str) -> None:
    with Customer.open(rasa_server.ws_url) as customer:
        answer = customer.ask(f"/{intent}")
        assert answer.start["route"] == route and says in answer.text
        if route == "action":
            assert answer.end["suggestions"] == ["Talk to a person"]
        assert customer.ask("hello").start["route"] == "smalltalk"  # and the conversation goes on


def test_an_action_that_pauses_hands_the_conversation_to_a_person(rasa_server: LiveServer) -> None:
    with Customer.open(rasa_server.ws_url) as customer:
        said = customer.ask("/test_pause")
        assert said.start["action"] == "action_pause" and said.text == "Let me get a colleague for this."
        state = customer.receive()
        assert state["type"] == "state" and state["state"] == "waiting"
        customer.send({"type": "message", "text": "hello?", "id": "m2"})
        assert customer.receive()["type"] == "message.received"  # the bot stays silent: a person comes


def test_an_unreachable_action_server_gets_an_answer(tmp_path: Path, demo_data_dir: Path) -> None:
    data_dir = rasa_company(tmp_path, demo_data_dir)
    server = start_server(data_dir, f"sqlite:///{tmp_path / 'helpline.db'}", tmp_path / "server.log",
                          HELPLINE_ACTION_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}/webhook")
    try:
        with Customer.open(server.ws_url) as customer:
            answer = customer.ask('/order_status{"order_id": "4471"}')
        assert answer.start["route"] == "action" and "ask for a person" in answer.text
        assert "does not offer" in server.log.read_text() or "cannot list" in server.log.read_text()
    finally:
        stop_server(server)


def test_a_slow_action_holds_up_only_its_own_conversation(tmp_path: Path, demo_data_dir: Path,
                                                          action_server: ActionServerProcess) -> None:
    data_dir = rasa_company(tmp_path, demo_data_dir)
    server = start_server(data_dir, f"sqlite:///{tmp_path / 'helpline.db'}", tmp_path / "server.log",
                          HELPLINE_ACTION_ENDPOINT_URL=action_server.url, HELPLINE_ACTION_TIMEOUT_S="10")
    slow: list[Streamed] = []
    try:
        with Customer.open(server.ws_url) as waiting, Customer.open(server.ws_url) as other:
            started = threading.Event()

            def ask_slow() -> None:
                started.set()
                slow.append(waiting.ask("/test_slow"))

            thread = threading.Thread(target=ask_slow)
            thread.start()
            started.wait()
            begun = time.monotonic()
            quick = other.ask('/order_status{"order_id": "4471"}')
            quick_s = time.monotonic() - begun
            assert not slow, "the other conversation was answered before the slow action finished"
            thread.join(30)
        assert "on its way" in quick.text and quick_s < 4
        assert slow and slow[0].text == "finally"
    finally:
        stop_server(server)


def test_a_custom_slot_mapping_is_filled_by_its_action_on_every_message(rasa_server: LiveServer) -> None:
    with Customer.open(rasa_server.ws_url) as customer:
        answer = customer.ask("do these boots come in 42")  # answered by the FAQ; the slot fills all the same
        conversation = customer.session["conversation_id"]
    assert answer.start["route"] != "action"
    filled = [e for e in events_of(rasa_server, conversation) if e["event"] == "slot" and e["name"] == "shoe_size"]
    assert [e["value"] for e in filled] == ["42"]


def test_the_console_shows_an_action_turn(rasa_server: LiveServer) -> None:
    with Customer.open(rasa_server.ws_url) as customer:
        customer.ask('/order_status{"order_id": "4471"}')
        conversation = customer.session["conversation_id"]
    from tests.servers import add_agents

    add_agents(rasa_server.database_url, "pw-console-1", "maya")
    with httpx.Client(base_url=rasa_server.url) as client:
        login = client.post("/api/auth/login", json={"name": "maya", "password": "pw-console-1"})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        body = client.get(f"/api/agent/conversations/{conversation}", headers=headers).json()
    bot = [m for m in body["messages"] if m["role"] == "bot"]
    assert bot[-1]["action"] == "action_order_status"
    turn = next(m["actions"] for m in bot if m.get("actions"))
    assert turn["actions"][-1] == "action_order_status" and turn["seconds"] >= 0
    assert turn["slots_before"]["order_id"] is None and turn["slots_after"]["order_id"] == "4471"
    assert any(e["event"] == "slot" and e["name"] == "order_id" for e in turn["events"])
    assert body["slots"]["order_id"] == "4471"
