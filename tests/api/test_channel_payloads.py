"""A Helpline reply as Rasa's REST and socket.io output channels send it, for every kind of reply."""

from __future__ import annotations

from typing import Any

from api.channels.payloads import agent_utterance, bot_message, rest_messages, socketio_messages


def end(**fields: Any) -> dict[str, Any]:
    return {"type": "reply.end", "reply_id": "r1", "text": "", "faq_id": None, "score": None, "suggestions": [],
            **fields}


def test_a_text_is_one_message_per_paragraph() -> None:
    message = bot_message(end(text="Refunds take 5-7 days.\n\nWe email you when it is done.\n"))
    assert rest_messages(message, "anna") == [{"recipient_id": "anna", "text": "Refunds take 5-7 days."},
                                              {"recipient_id": "anna", "text": "We email you when it is done."}]
    assert socketio_messages(message) == [{"text": "Refunds take 5-7 days."}, {"text": "We email you when it is done."}]


def test_buttons_and_suggestions() -> None:
    buttons = [{"title": "Yes, please", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    message = bot_message(end(text="Shall I?\n\nIt is free.", buttons=buttons))
    assert rest_messages(message, "anna") == [{"recipient_id": "anna", "text": "Shall I?\n\nIt is free.",
                                               "buttons": buttons}]
    quick = [{"content_type": "text", **button} for button in buttons]
    assert socketio_messages(message) == [{"text": "Shall I?", "quick_replies": []},
                                          {"text": "It is free.", "quick_replies": quick}]
    fallback = bot_message(end(text="Sorry?", suggestions=["Do you ship to Norway?"]))
    assert fallback["buttons"] == [{"title": "Do you ship to Norway?", "payload": "Do you ship to Norway?"}]


def test_image_and_custom_come_after_the_text_each_its_own_message() -> None:
    message = bot_message(end(text="Here it is", image="https://cdn.example/boot.png",
                              custom={"data": {"kind": "tracking"}}))
    assert rest_messages(message, "ben") == [
        {"recipient_id": "ben", "text": "Here it is"},
        {"recipient_id": "ben", "custom": {"data": {"kind": "tracking"}}},
        {"recipient_id": "ben", "image": "https://cdn.example/boot.png"},
    ]
    assert socketio_messages(message) == [
        {"text": "Here it is"}, {"kind": "tracking"},
        {"attachment": {"type": "image", "payload": {"src": "https://cdn.example/boot.png"}}},
    ]
    # an image alone has no text message; a custom payload Rasa would not send (falsy) is not sent
    assert rest_messages(bot_message(end(image="https://cdn.example/a.png", custom={})), "ben") == [
        {"recipient_id": "ben", "image": "https://cdn.example/a.png"}]


def test_an_agent_message_names_its_agent_in_metadata() -> None:
    frame = {"type": "agent.message", "message_id": 7, "text": "Hi, Maya here", "agent": "Maya", "created_at": "…"}
    assert agent_utterance(frame) == {"text": "Hi, Maya here", "metadata": {"agent": "Maya", "message_id": 7}}
