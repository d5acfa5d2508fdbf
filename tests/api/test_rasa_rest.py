"""Rasa's REST channel as a team's scripts use it: a real server with the demo's Rasa side and a real action
server, and httpx posting to ``/webhooks/rest/webhook`` as to Rasa."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.store.db import make_engine
from bot.store.models import Conversation, Message
from tests.api.rasa_channels import Agent, conversation_named, tracker_events
from tests.servers import LiveServer


@pytest.fixture
def server(channels_server: LiveServer) -> LiveServer:
    """The channels' server: a sender may send 6 messages at once, then 6 a minute."""
    return channels_server


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as client:
        yield client


def say(http: httpx.Client, server: LiveServer, sender: str, message: str, **extra: Any) -> list[dict[str, Any]]:
    answer = http.post(f"{server.url}/webhooks/rest/webhook", json={"sender": sender, "message": message, **extra})
    assert answer.status_code == 200, answer.text
    said: list[dict[str, Any]] = answer.json()
    return said


def test_a_sender_is_a_conversation_kept_across_calls_and_answered_as_rasa_answers(
        server: LiveServer, http: httpx.Client) -> None:
    assert http.get(f"{server.url}/webhooks/rest/").json() == {"status": "ok"}
    asked = say(http, server, "anna", "/return_item", metadata={"page": "/orders"})
    assert len(asked) == 1 and set(asked[0]) == {"recipient_id", "text"}
    assert asked[0]["recipient_id"] == "anna" and "Which order" in asked[0]["text"]
    # one action, several messages: the refusal and the question again, in order
    refused, again = say(http, server, "anna", "9999")
    assert "can't find an order 9999" in refused["text"] and "Which order" in again["text"]
    assert "reason" in say(http, server, "anna", "order 3302")[0]["text"]
    (confirm,) = say(http, server, "anna", "the boots are too small")
    assert set(confirm) == {"recipient_id", "text", "buttons"}
    assert (confirm["buttons"][0]["title"], confirm["buttons"][0]["payload"]) == ("Yes, please", "/affirm")
    done = say(http, server, "anna", "/affirm")
    assert "3302" in done[0]["text"]
    # another sender is another conversation, with nothing of anna's
    assert "Which order" in say(http, server, "ben", "/order_status")[0]["text"]
    anna, ben = conversation_named(server, "rest", "anna"), conversation_named(server, "rest", "ben")
    assert anna != ben
    # the console shows the conversation like any other
    with Agent.login(server) as maya:
        texts = [(m["role"], m["text"]) for m in maya.messages(anna)]
    assert texts[0] == ("customer", "/return_item") and ("customer", "the boots are too small") in texts
    assert ("bot", refused["text"]) in texts and ("bot", again["text"]) in texts
    # the tracker the action server is sent has the message's metadata and the channel, as Rasa's REST channel
    first = next(e for e in tracker_events(server, anna) if e["event"] == "user")
    assert first["metadata"] == first["parse_data"]["metadata"] == {"page": "/orders"}
    assert first["input_channel"] == "rest"


def test_a_fallback_offers_its_suggestions_as_buttons(server: LiveServer, http: httpx.Client) -> None:
    said = say(http, server, "cleo", "tell me a joke")
    assert len(said) == 1 and said[0]["buttons"], said
    assert all(b["title"] == b["payload"] for b in said[0]["buttons"])  # a press asks the suggested question


def test_while_a_person_handles_the_chat_the_bot_answers_an_empty_list(server: LiveServer, http: httpx.Client) -> None:
    handed = say(http, server, "dora", "I want to talk to a person")
    assert len(handed) == 1 and handed[0]["text"]
    assert say(http, server, "dora", "hello? anyone?") == []
    conversation = conversation_named(server, "rest", "dora")
    with Agent.login(server) as maya:
        maya.take_over(conversation)
        maya.say(conversation, "Hi, Maya here. How can I help?")
        assert say(http, server, "dora", "my parcel never came") == []
        roles = [(m["role"], m["text"]) for m in maya.messages(conversation)]
        assert roles[-1] == ("customer", "my parcel never came")
        assert ("agent", "Hi, Maya here. How can I help?") in roles
        maya.hand_back(conversation)
    assert say(http, server, "dora", "/order_status")[0]["text"]  # the bot's again


def _rows(server: LiveServer) -> tuple[int, int]:
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as connection:
            return (connection.scalar(select(func.count()).select_from(Conversation)) or 0,
                    connection.scalar(select(func.count()).select_from(Message)) or 0)
    finally:
        engine.dispose()


@pytest.mark.parametrize(("body", "says"), [
    (b"not json", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"message": "hi"}', "'sender'"),
    (b'{"sender": "", "message": "hi"}', "'sender'"),
    (b'{"sender": 42, "message": "hi"}', "'sender'"),
    (b'{"sender": "eve"}', "'message'"),
    (b'{"sender": "eve", "message": ["hi"]}', "'message'"),
    (b'{"sender": "eve", "message": "   "}', "'message'"),
    (b'{"sender": "eve", "message": "hi", "metadata": "x"}', "'metadata'"),
    (b'{"sender": "eve", "message": "hi", "metadata": {"a": NaN}}', "'metadata'"),
    (b'{"sender": "eve", "message": "hi", "metadata": {"a": "\\u0000"}}', "'metadata'"),
    (b'{"sender": "eve", "message": "hi", "metadata": ' + b'{"a": ' * 9 + b'1' + b'}' * 10, "'metadata'"),
])
def test_a_bad_body_is_refused_with_a_clear_400_and_nothing_is_written(
        server: LiveServer, http: httpx.Client, body: bytes, says: str) -> None:
    before = _rows(server)
    answer = http.post(f"{server.url}/webhooks/rest/webhook", content=body,
                       headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and says in answer.json()["detail"], answer.text
    assert _rows(server) == before


def test_too_long_a_message_and_another_site_s_page_are_refused(server: LiveServer, http: httpx.Client) -> None:
    long = http.post(f"{server.url}/webhooks/rest/webhook", json={"sender": "fay", "message": "x" * 2001})
    assert long.status_code == 400 and "2000" in long.json()["detail"]
    other = http.post(f"{server.url}/webhooks/rest/webhook", json={"sender": "fay", "message": "hi"},
                      headers={"Origin": "https://elsewhere.example"})
    assert other.status_code == 403 and "HELPLINE_ALLOWED_ORIGINS" in other.json()["detail"]
    local = http.options(f"{server.url}/webhooks/rest/webhook", headers={"Origin": "http://localhost:3000"})
    assert local.status_code == 204 and local.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_a_sender_over_its_messages_a_minute_gets_429_with_retry_after(server: LiveServer, http: httpx.Client) -> None:
    answers = [http.post(f"{server.url}/webhooks/rest/webhook", json={"sender": "gus", "message": "hello"})
               for _ in range(8)]
    assert [a.status_code for a in answers[:6]] == [200] * 6  # the burst
    refused = answers[-1]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "sender" in refused.json()["detail"]
    # another sender from the same address is not held back
    assert http.post(f"{server.url}/webhooks/rest/webhook", json={"sender": "hal", "message": "hello"}).status_code \
        == 200
