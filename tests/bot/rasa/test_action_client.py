"""Helpline calls a real rasa-sdk action server as Rasa does, and names every way a call can fail."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from bot.rasa import events
from bot.rasa.action_client import ActionNotFound, ActionRejected, ActionServer, ActionServerFailed
from bot.rasa.endpoints import ActionEndpoint as Endpoint
from bot.rasa.responses import bot_messages
from bot.rasa.tracker import REQUESTED_SLOT, Tracker
from tests.bot.rasa.demo_domain import DOMAIN, SLOTS
from tests.servers import ActionServerProcess, free_port


def customer_says(tracker: Tracker, text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> None:
    parse = {"intent": {"name": intent, "confidence": 0.97}, "entities": entities or [], "text": text,
             "message_id": "m1", "metadata": {}, "intent_ranking": [{"name": intent, "confidence": 0.97}]}
    tracker.apply(events.user(text, parse, "m1"))


def run(server: ActionServer, action: str, tracker: Tracker) -> Any:
    async def call() -> Any:
        try:
            return await server.run(action, tracker)
        finally:
            await server.aclose()

    return asyncio.run(call())


def test_order_status_asks_which_order_when_it_has_none(action_server: ActionServerProcess) -> None:
    tracker = Tracker("c1", SLOTS)
    customer_says(tracker, "where is my order?", "order_status")
    result = run(ActionServer(Endpoint(action_server.url), DOMAIN), "action_order_status", tracker)
    assert result.events == []
    [asked] = bot_messages(result.responses, DOMAIN["responses"], tracker.slots)
    assert asked["text"].startswith("Which order is it about?")
    assert asked["metadata"]["utter_action"] == "utter_ask_order_id"


def test_order_status_answers_from_the_entity_and_remembers_the_order(action_server: ActionServerProcess) -> None:
    tracker = Tracker("c2", SLOTS)
    entity = {"entity": "order_id", "start": 18, "end": 22, "value": "4471", "extractor": "RegexEntityExtractor"}
    customer_says(tracker, "where is my order 4471?", "order_status", [entity])
    result = run(ActionServer(Endpoint(action_server.url), DOMAIN), "action_order_status", tracker)
    [message] = bot_messages(result.responses, DOMAIN["responses"], tracker.slots)
    assert "on its way with DHL" in message["text"]
    assert [(e["event"], e["name"], e["value"]) for e in result.events] == [("slot", "order_id", "4471")]
    for event in result.events:
        tracker.apply(event)
    assert tracker.slots["order_id"] == "4471"


def test_the_return_form_validator_refuses_an_unknown_order_as_rasa_asks_it(action_server: ActionServerProcess) -> None:
    tracker = Tracker("c3", SLOTS)
    customer_says(tracker, "I want to return my boots", "return_item")
    for event in (events.action("return_form"), events.active_loop("return_form"),
                  events.slot(REQUESTED_SLOT, "order_id"), events.action("action_listen")):
        tracker.apply(event)
    customer_says(tracker, "it's 9999", "inform", [{"entity": "order_id", "start": 5, "end": 9, "value": "9999",
                                                    "extractor": "RegexEntityExtractor"}])
    # what Rasa's form sends its validator: the form's action, then the candidate slot events last
    tracker.apply(events.action("return_form"))
    tracker.apply(events.slot("order_id", "9999"))
    result = run(ActionServer(Endpoint(action_server.url), DOMAIN), "validate_return_form", tracker)
    assert ("slot", "order_id", None) in [(e["event"], e.get("name"), e.get("value")) for e in result.events]
    [message] = bot_messages(result.responses, DOMAIN["responses"], tracker.slots)
    assert message["text"] == "I can't find an order 9999. Could you check the number in your confirmation e-mail?"


def test_a_rejection_is_named_with_the_servers_reason(action_server: ActionServerProcess) -> None:
    with pytest.raises(ActionRejected, match="not while the shop is closed"):
        run(ActionServer(Endpoint(action_server.url), DOMAIN), "action_reject", Tracker("c4", SLOTS))


def test_an_unknown_action_is_not_found(action_server: ActionServerProcess) -> None:
    with pytest.raises(ActionNotFound):
        run(ActionServer(Endpoint(action_server.url), DOMAIN), "action_nobody_wrote", Tracker("c5", SLOTS))


def test_a_crashing_action_is_a_server_failure(action_server: ActionServerProcess) -> None:
    with pytest.raises(ActionServerFailed, match="HTTP 500"):
        run(ActionServer(Endpoint(action_server.url), DOMAIN), "action_crash", Tracker("c6", SLOTS))


def test_a_slow_action_fails_at_the_timeout_not_when_it_finishes(action_server: ActionServerProcess) -> None:
    with pytest.raises(ActionServerFailed, match=r"no answer within 0\.5 s"):
        run(ActionServer(Endpoint(action_server.url, timeout_s=0.5), DOMAIN), "action_slow", Tracker("c7", SLOTS))


def test_a_server_that_is_not_there_is_a_failure_naming_it() -> None:
    url = f"http://127.0.0.1:{free_port()}/webhook"
    with pytest.raises(ActionServerFailed, match="cannot reach"):
        run(ActionServer(Endpoint(url), DOMAIN), "action_order_status", Tracker("c8", SLOTS))


def test_the_server_lists_its_actions(action_server: ActionServerProcess) -> None:
    async def listed() -> list[str]:
        server = ActionServer(Endpoint(action_server.url), DOMAIN)
        try:
            return await server.list_actions()
        finally:
            await server.aclose()

    names = asyncio.run(listed())
    assert {"action_order_status", "action_cancel_order", "validate_return_form", "action_submit_return"} <= set(names)


class Recorder(BaseHTTPRequestHandler):
    """A stand-in action server that records what it was sent (rasa-sdk does not show actions the headers)."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Recorder.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        answer = json.dumps({"events": [], "responses": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


def test_the_call_carries_rasas_body_headers_auth_and_token() -> None:
    recorder = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    try:
        endpoint = Endpoint(f"http://127.0.0.1:{recorder.server_address[1]}/webhook",
                            headers={"X-Shop": "northwind"}, basic_auth=("rasa", "s3cret"), token="t0k")
        tracker = Tracker("c9", SLOTS)
        customer_says(tracker, "cancel order 5120", "cancel_order")
        run(ActionServer(endpoint, DOMAIN), "action_cancel_order", tracker)
    finally:
        recorder.shutdown()
        recorder.server_close()
    [call] = Recorder.seen
    assert call["path"] == "/webhook?token=t0k"
    assert call["headers"]["X-Shop"] == "northwind" and call["headers"]["Authorization"].startswith("Basic ")
    body = call["body"]
    assert set(body) == {"next_action", "sender_id", "tracker", "domain", "version"}
    assert body["next_action"] == "action_cancel_order" and body["sender_id"] == "c9"
    assert body["domain"] == DOMAIN
    state = body["tracker"]
    assert set(state) == {"sender_id", "slots", "latest_message", "latest_event_time", "followup_action", "paused",
                          "events", "latest_input_channel", "active_loop", "latest_action", "latest_action_name"}
    assert state["latest_message"]["intent"] == {"name": "cancel_order", "confidence": 0.97}
    assert [e["event"] for e in state["events"]] == ["user"] and state["active_loop"] == {}
