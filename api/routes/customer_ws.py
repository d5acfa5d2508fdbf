"""The customer socket ``/ws``: sessions, messages answered as streamed replies, feedback, errors."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.deps import RuntimeDep
from api.protocol import FeedbackIn, FrameError, MessageIn, PingIn, error_frame, parse_client_frame
from bot.engine import BotReply, DialogueEngine
from bot.settings import Settings
from bot.store.transcripts import TranscriptStore, UnknownConversation, UnknownReply
from bot.streaming import chunks

log = logging.getLogger(__name__)
router = APIRouter()

INVALID_TOKEN_CLOSE = 4401
READY_TIMEOUT_S = 120.0


@router.websocket("/ws")
async def customer_socket(
    websocket: WebSocket, runtime: RuntimeDep, conversation_id: str | None = None, token: str | None = None
) -> None:
    await websocket.accept()
    engine = await runtime.wait_ready(READY_TIMEOUT_S)
    if engine is None:
        await websocket.send_json(error_frame("unavailable", runtime.error or "the bot is still loading"))
        await websocket.close(code=1013)
        return
    settings = runtime.settings
    session = await _open_session(websocket, engine.store, conversation_id, token, settings.history_limit)
    if session is None:
        return
    session["welcome"] = engine.replies.welcome
    session["max_message_chars"] = settings.max_message_chars
    await websocket.send_json(session)
    conversation = session["conversation_id"]
    try:
        while True:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                return
            if event.get("text") is None:
                await websocket.send_json(error_frame("binary_frame", "send JSON text frames, not binary"))
                continue
            try:
                frame = parse_client_frame(event["text"], settings.max_message_chars)
            except FrameError as exc:
                await websocket.send_json(error_frame(exc.code, str(exc), exc.client_id))
                continue
            if isinstance(frame, MessageIn):
                await _answer(websocket, engine, conversation, frame, settings)
            elif isinstance(frame, FeedbackIn):
                await _rate(websocket, engine.store, conversation, frame)
            elif isinstance(frame, PingIn):
                await websocket.send_json({"type": "pong"})
    except WebSocketDisconnect:
        return


async def _open_session(
    websocket: WebSocket, store: TranscriptStore, conversation_id: str | None, token: str | None, limit: int
) -> dict[str, Any] | None:
    """A new conversation, or the resumed one when id and token match; None (socket closed) when they don't."""
    if conversation_id is None and token is None:
        new_id, new_token = await anyio.to_thread.run_sync(store.open_conversation)
        return {"type": "session", "conversation_id": new_id, "token": new_token, "resumed": False}
    conversation_id, token = conversation_id or "", token or ""
    try:
        await anyio.to_thread.run_sync(store.authenticate, conversation_id, token)
    except UnknownConversation:
        await websocket.send_json(error_frame("invalid_token", "unknown conversation or wrong token"))
        await websocket.close(code=INVALID_TOKEN_CLOSE)
        return None
    history = await anyio.to_thread.run_sync(store.history, conversation_id, limit)
    return {
        "type": "session", "conversation_id": conversation_id, "token": token, "resumed": True,
        "history": history,
    }


async def _answer(
    websocket: WebSocket, engine: DialogueEngine, conversation: str, frame: MessageIn, settings: Settings
) -> None:
    try:
        reply: BotReply = await engine.respond(conversation, frame.text.strip(), frame.id)
    except Exception:
        log.exception("turn failed in conversation %s", conversation)
        await websocket.send_json(error_frame("internal", "the bot could not answer; please try again", frame.id))
        return
    await websocket.send_json({
        "type": "reply.start", "reply_id": reply.reply_id, "in_reply_to": frame.id,
        "intent": reply.intent, "confidence": reply.confidence, "route": reply.route.value,
    })
    delay = settings.stream_delay_ms / 1000
    for piece in chunks(reply.text, settings.stream_chunk_words):
        await websocket.send_json({"type": "reply.delta", "reply_id": reply.reply_id, "text": piece})
        if delay:
            await asyncio.sleep(delay)
    await websocket.send_json({
        "type": "reply.end", "reply_id": reply.reply_id, "text": reply.text, "faq_id": reply.faq_id,
        "score": reply.score, "suggestions": reply.suggestions,
    })


async def _rate(websocket: WebSocket, store: TranscriptStore, conversation: str, frame: FeedbackIn) -> None:
    try:
        await anyio.to_thread.run_sync(store.record_feedback, conversation, frame.reply_id, frame.rating)
    except UnknownReply:
        await websocket.send_json(error_frame("unknown_reply", f"no reply {frame.reply_id} in this conversation"))
        return
    await websocket.send_json({"type": "feedback.ok", "reply_id": frame.reply_id, "rating": frame.rating})
