"""How a customer socket begins: the page's origin and the address's limits checked, then the first frame —
``start`` for a new conversation, ``resume`` with its id and token to go on with one.

The token travels in that frame, never in the URL, so no access log or proxy log keeps it. A socket that says
nothing within ``HELPLINE_HANDSHAKE_SECONDS`` is closed, and only ``start`` creates a conversation, so idle
sockets leave nothing behind.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from fastapi import WebSocket

from api.origins import widget_origin_allowed
from api.protocol import FrameError, ResumeIn, StartIn, error_frame, parse_client_frame, too_big
from api.throttle import AddressLimits, SocketLimits
from bot.settings import Settings
from bot.store.transcripts import OUTAGES, ExpiredConversation, UnknownConversation
from bot.turn.engine import DialogueEngine

INVALID_TOKEN_CLOSE = 4401  # the widget forgets the conversation and starts a new one
POLICY_CLOSE = 1008
TRY_LATER_CLOSE = 1013
UNAVAILABLE = error_frame("unavailable", "the conversation cannot be resumed right now; trying again shortly")


class Refused(Exception):
    """The socket may not go on: the error frame to send, then the close code."""

    def __init__(self, frame: dict[str, Any], code: int) -> None:
        super().__init__(frame["message"])
        self.frame, self.code = frame, code


def client_address(websocket: WebSocket) -> str:
    """The visitor's address (behind a trusted proxy, the one its X-Forwarded-For names)."""
    return websocket.client.host if websocket.client else "unknown"


async def admit(websocket: WebSocket, settings: Settings, limits: AddressLimits, address: str) -> None:
    """Refuse a page the widget may not run on, and an address over its socket limit."""
    origin = websocket.headers.get("origin")
    if not widget_origin_allowed(origin, websocket.headers.get("host"), settings.origins):
        raise Refused(error_frame("origin_not_allowed", f"pages at {origin} may not open this chat; the "
                                  "server's HELPLINE_ALLOWED_ORIGINS must list them"), POLICY_CLOSE)
    wait = await limits.hit("connect", address)
    if wait:
        raise Refused(error_frame("too_many_connections", "too many chat connections from your address; "
                                  "try again shortly", retry_after=wait), TRY_LATER_CLOSE)


async def first_frame(websocket: WebSocket, settings: Settings) -> StartIn | ResumeIn | None:
    """Wait for ``start`` or ``resume`` (anything else gets an error frame, as many as the socket's bucket for
    malformed frames allows, and the wait goes on); None when the client left, ``Refused`` when it said nothing
    useful in time."""
    deadline, limits = time.monotonic() + settings.handshake_seconds, SocketLimits(settings)
    while True:
        try:
            event = await asyncio.wait_for(websocket.receive(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise Refused(error_frame("handshake_timeout", "send a start or resume frame first"),
                          POLICY_CLOSE) from None
        if event["type"] == "websocket.disconnect":
            return None
        raw = event.get("text")
        try:
            if raw is None or too_big(raw, settings.max_frame_bytes):
                raise FrameError("expected_session", "the first frame must be a start or resume frame")
            frame = parse_client_frame(raw, settings.max_message_chars)
        except FrameError as exc:
            if not limits.take("other"):
                await websocket.send_json(error_frame(exc.code, str(exc)))
            continue
        if isinstance(frame, StartIn | ResumeIn):
            return frame
        if not limits.take("other"):
            await websocket.send_json(error_frame("expected_session", "the first frame must be a start or resume "
                                                  "frame", getattr(frame, "id", None)))


async def open_session(engine: DialogueEngine, frame: StartIn | ResumeIn, settings: Settings,
                       limits: AddressLimits, address: str) -> dict[str, Any]:
    """The ``session`` frame: a new conversation, or the resumed one with its history; ``Refused`` when the
    token does not resume it (or has expired) or the address has started too many conversations."""
    store = engine.store
    if isinstance(frame, StartIn):
        wait = await limits.hit("conversation", address)
        if wait:
            raise Refused(error_frame("too_many_conversations", "too many new chats from your address; try "
                                      "again shortly", retry_after=wait), TRY_LATER_CLOSE)
        new_id, new_token = await engine.in_thread(store.open_conversation)
        return {"type": "session", "conversation_id": new_id, "token": new_token, "resumed": False}
    idle = timedelta(days=settings.conversation_idle_days)
    if store.journal is not None and store.journal.holds(frame.conversation_id):
        raise Refused(UNAVAILABLE, TRY_LATER_CLOSE)  # the database does not have all of it yet
    try:
        await engine.in_thread(store.authenticate, frame.conversation_id, frame.token, idle)
    except OUTAGES:
        raise Refused(UNAVAILABLE, TRY_LATER_CLOSE) from None
    except ExpiredConversation:
        raise Refused(error_frame("token_expired", "this conversation has been idle too long to resume; a new one "
                                  "starts"), INVALID_TOKEN_CLOSE) from None
    except UnknownConversation:
        raise Refused(error_frame("invalid_token", "unknown conversation or wrong token"),
                      INVALID_TOKEN_CLOSE) from None
    try:
        history = await engine.in_thread(store.history, frame.conversation_id, settings.history_limit)
    except OUTAGES:
        raise Refused(UNAVAILABLE, TRY_LATER_CLOSE) from None
    return {"type": "session", "conversation_id": frame.conversation_id, "token": frame.token, "resumed": True,
            "history": history}
