"""The customer socket against a real server on 127.0.0.1, with a real WebSocket client."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.api.wsclient import Customer
from tests.servers import LiveServer


def test_health_reports_the_loaded_model_and_faq(live_server: LiveServer) -> None:
    body = httpx.get(f"{live_server.url}/health").json()
    assert body["status"] == "ok" and body["model_version"] and body["faq_version"]


def test_openapi_documents_the_http_parts(live_server: LiveServer) -> None:
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    assert "/health" in spec["paths"]


def test_a_question_streams_back_as_chunks_with_its_intent(live_server: LiveServer) -> None:
    with Customer.open(live_server.ws_url) as customer:
        assert customer.session["type"] == "session" and customer.session["resumed"] is False
        assert customer.session["token"] and customer.session["welcome"]
        reply = customer.ask("How long does a refund take?", client_id="m1")
    assert reply.start["in_reply_to"] == "m1"
    assert reply.start["route"] == "faq" and reply.start["intent"] == "refunds"
    assert 0 < reply.start["confidence"] <= 1
    assert len(reply.deltas) > 1, "the reply should arrive in several chunks"
    assert reply.text == reply.end["text"]
    assert "business days" in reply.end["text"]
    assert reply.end["faq_id"] and reply.end["score"] > 0.45


def test_reconnecting_with_the_token_resumes_with_history(live_server: LiveServer) -> None:
    with Customer.open(live_server.ws_url) as first:
        reply = first.ask("hello there")
        conversation, token = first.session["conversation_id"], first.session["token"]
    assert reply.start["route"] == "smalltalk"
    with Customer.open(live_server.ws_url, conversation, token) as again:
        assert again.session["resumed"] is True and again.session["conversation_id"] == conversation
        history = again.session["history"]
        assert [m["role"] for m in history] == ["customer", "bot"]
        assert history[0]["text"] == "hello there" and history[1]["reply_id"] == reply.start["reply_id"]


def test_a_wrong_token_is_refused(live_server: LiveServer) -> None:
    with Customer.open(live_server.ws_url) as first:
        conversation = first.session["conversation_id"]
    with Customer.open(live_server.ws_url, conversation, "not-the-token") as intruder:
        assert intruder.session == {"type": "error", "code": "invalid_token",
                                    "message": "unknown conversation or wrong token"}
        with pytest.raises(ConnectionClosed) as closed:
            intruder.receive(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ({"type": "shout", "text": "hi"}, "unknown_type"),
        ({"type": "message"}, "empty_text"),
        ({"type": "message", "text": "   "}, "empty_text"),
        ({"type": "message", "text": 42}, "empty_text"),
        ({"type": "message", "text": "x" * 2001}, "text_too_long"),
        ({"type": "feedback", "reply_id": "r", "rating": "meh"}, "bad_field"),
        ({"type": "feedback", "reply_id": "no-such-reply", "rating": "up"}, "unknown_reply"),
        (b"\x00\x01binary", "binary_frame"),
    ],
)
def test_bad_input_gets_an_error_frame_and_the_connection_stays_usable(
    live_server: LiveServer, frame: object, code: str
) -> None:
    import json

    with Customer.open(live_server.ws_url) as customer:
        customer.send(frame if isinstance(frame, (str, bytes)) else json.dumps(frame))
        error = customer.receive()
        assert error["type"] == "error" and error["code"] == code and error["message"]
        reply = customer.ask("hi")
        assert reply.start["route"] == "smalltalk"


def test_errors_about_a_message_name_its_client_id(live_server: LiveServer) -> None:
    with Customer.open(live_server.ws_url) as customer:
        assert customer.session["max_message_chars"] == 2000
        customer.send({"type": "message", "text": "y" * 2001, "id": "long-1"})
        error = customer.receive()
    assert error["code"] == "text_too_long" and error["in_reply_to"] == "long-1"


def test_the_length_limit_is_inclusive(live_server: LiveServer) -> None:
    with Customer.open(live_server.ws_url) as customer:
        reply = customer.ask("refund " + "x" * 1993)  # exactly 2,000 characters
    assert reply.end["text"]


def test_feedback_is_acknowledged_and_shown_on_resume(live_server: LiveServer) -> None:
    with Customer.open(live_server.ws_url) as customer:
        reply = customer.ask("Do you ship to Norway?")
        customer.send({"type": "feedback", "reply_id": reply.start["reply_id"], "rating": "down"})
        assert customer.receive() == {"type": "feedback.ok", "reply_id": reply.start["reply_id"], "rating": "down"}
        conversation, token = customer.session["conversation_id"], customer.session["token"]
    with Customer.open(live_server.ws_url, conversation, token) as again:
        assert again.session["history"][-1]["rating"] == "down"


def test_ping_pong(live_server: LiveServer) -> None:
    with Customer.open(live_server.ws_url) as customer:
        customer.send({"type": "ping"})
        assert customer.receive() == {"type": "pong"}


def test_a_reply_the_database_refuses_is_an_error_frame_and_nothing_half_stored(live_server: LiveServer) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(live_server.database_url)
    with Customer.open(live_server.ws_url) as customer:
        conversation = customer.session["conversation_id"]
        with engine.begin() as connection:  # the database refuses this conversation's bot rows
            connection.execute(text(
                "CREATE TRIGGER refuse_bot_rows BEFORE INSERT ON messages "
                f"WHEN NEW.role = 'bot' AND NEW.conversation_id = '{conversation}' "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            ))
        try:
            customer.send({"type": "message", "text": "Do you ship to Norway?", "id": "c1"})
            error = customer.receive()
            assert error["type"] == "error" and error["code"] == "internal" and error["in_reply_to"] == "c1"
        finally:
            with engine.begin() as connection:
                connection.execute(text("DROP TRIGGER refuse_bot_rows"))
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT role, intent FROM messages WHERE conversation_id = :c"), {"c": conversation}).all()
        assert [tuple(row) for row in rows] == [("customer", None)]  # kept, but no reply and no decision
        assert customer.ask("hi").start["route"] == "smalltalk"  # and the connection still answers
    engine.dispose()
