"""Helpline's replies as the messages Rasa's output channels send: the REST channel's list and socket.io's
``bot_uttered`` payloads.

A reply becomes the bot message Rasa's dispatcher would have made (text, buttons, image, custom), and that
message goes out as Rasa's ``OutputChannel.send_response`` sends it: the text (with its buttons, or cut into
one message per paragraph when it has none), then the custom payload, then the image, each its own message.
A fallback's suggested questions become buttons whose payload is the question itself, so a pressed one asks it.
"""

from __future__ import annotations

from typing import Any


def bot_message(end: dict[str, Any]) -> dict[str, Any]:
    """A ``reply.end`` frame as a Rasa bot message: ``text``, ``buttons``, ``image``, ``custom``."""
    buttons = end.get("buttons") or [{"title": question, "payload": question} for question in end.get("suggestions")
                                     or ()]
    return {"text": end.get("text") or "", "buttons": buttons, "image": end.get("image"), "custom": end.get("custom")}


def _paragraphs(text: str) -> list[str]:
    return text.strip().split("\n\n")


def rest_messages(message: dict[str, Any], recipient_id: str) -> list[dict[str, Any]]:
    """What Rasa's REST channel (its collecting output channel) answers for one bot message."""
    out: list[dict[str, Any]] = []
    if message["buttons"]:
        out.append({"recipient_id": recipient_id, "text": message["text"], "buttons": message["buttons"]})
    elif message["text"]:
        out += [{"recipient_id": recipient_id, "text": part} for part in _paragraphs(message["text"])]
    if message["custom"]:  # Rasa sends a custom payload only when it is truthy
        out.append({"recipient_id": recipient_id, "custom": message["custom"]})
    if message["image"]:
        out.append({"recipient_id": recipient_id, "image": message["image"]})
    return out


def socketio_messages(message: dict[str, Any]) -> list[Any]:
    """The ``bot_uttered`` payloads Rasa's socket.io channel emits for one bot message: buttons become
    ``quick_replies`` on the last paragraph; an image is an ``attachment``; a custom payload goes out as it is
    (its ``data`` when it has one, as Rasa emits ``json_message``'s ``data``)."""
    out: list[Any] = []
    if message["buttons"]:
        parts: list[dict[str, Any]] = [{"text": part, "quick_replies": []} for part in _paragraphs(message["text"])]
        parts[-1]["quick_replies"] = [{"content_type": "text", "title": button.get("title"),
                                       "payload": button.get("payload")} for button in message["buttons"]]
        out += parts
    elif message["text"]:
        out += [{"text": part} for part in _paragraphs(message["text"])]
    custom = message["custom"]
    if custom:
        out.append(custom["data"] if isinstance(custom, dict) and "data" in custom else custom)
    if message["image"]:
        out.append({"attachment": {"type": "image", "payload": {"src": message["image"]}}})
    return out


def agent_utterance(frame: dict[str, Any]) -> dict[str, Any]:
    """An agent's live message (an ``agent.message`` frame) as a ``bot_uttered`` payload; ``metadata`` names the
    person (Rasa front-ends show the text; rasa-webchat ignores metadata keys it does not know)."""
    return {"text": frame["text"], "metadata": {"agent": frame.get("agent"), "message_id": frame.get("message_id")}}
