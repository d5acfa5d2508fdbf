"""The customer socket ``/ws``: sessions, messages answered as streamed replies, feedback, live handoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.deps import RuntimeDep
from api.protocol import FeedbackIn, FrameError, MessageIn, PingIn, TypingIn, error_frame, parse_client_frame
from bot.conversations.events import customer_channel
from bot.conversations.handoff import HandoffService
from bot.settings import Settings
from bot.store.transcripts import TranscriptStore, UnknownConversation, UnknownReply
from bot.turn.engine import DialogueEngine
from bot.turn.memory import ConversationMemory
from bot.turn.outcome import BotReply, Turn, structured
from bot.turn.streaming import chunks

log = logging.getLogger(__name__)
router = APIRouter()

INVALID_TOKEN_CLOSE = 4401
READY_TIMEOUT_S = 120.0


class Outbox:
    """Serialises sends: replies and live events (agent messages, state) share one socket."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._lock:
            await self.websocket.send_json(frame)


@router.websocket("/ws")
async def customer_socket(
    websocket: WebSocket, runtime: RuntimeDep, conversation_id: str | None = None, token: str | None = None
) -> None:
    await websocket.accept()
    engine = await runtime.wait_ready(READY_TIMEOUT_S)
    if engine is None or runtime.handoff is None:
        await websocket.send_json(error_frame("unavailable", runtime.error or "the bot is still loading"))
        await websocket.close(code=1013)
        return
    settings, handoff = runtime.settings, runtime.handoff
    session = await _open_session(websocket, engine.store, conversation_id, token, settings.history_limit)
    if session is None:
        return
    conversation = session["conversation_id"]
    outbox = Outbox(websocket)
    async with runtime.bus.subscribe(customer_channel(conversation)) as events:
        # read after subscribing, so no state change falls between the read and the events that follow it
        memory = await anyio.to_thread.run_sync(
            ConversationMemory.read, engine.store, conversation, settings.context_turns
        )
        session.update(
            welcome=engine.replies.welcome, max_message_chars=settings.max_message_chars,
            state=memory.state, agent=memory.agent,
        )
        await outbox.send(session)
        forwarding = asyncio.create_task(forward(events, outbox, memory))
        try:
            await _serve(websocket, outbox, engine, handoff, conversation, settings, memory)
        finally:
            forwarding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await forwarding


async def _serve(
    websocket: WebSocket, outbox: Outbox, engine: DialogueEngine, handoff: HandoffService,
    conversation: str, settings: Settings, memory: ConversationMemory,
) -> None:
    try:
        while True:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                return
            if event.get("text") is None:
                await outbox.send(error_frame("binary_frame", "send JSON text frames, not binary"))
                continue
            try:
                frame = parse_client_frame(event["text"], settings.max_message_chars)
            except FrameError as exc:
                await outbox.send(error_frame(exc.code, str(exc), exc.client_id))
                continue
            if isinstance(frame, MessageIn):
                await _answer(outbox, engine, handoff, conversation, frame, settings, memory)
            elif isinstance(frame, FeedbackIn):
                await _rate(outbox, engine.store, conversation, frame)
            elif isinstance(frame, TypingIn):
                await handoff.customer_typing(conversation, frame.active)
            elif isinstance(frame, PingIn):
                await outbox.send({"type": "pong"})
    except WebSocketDisconnect:
        return


async def forward(
    events: AsyncIterator[dict[str, Any]], outbox: Outbox, memory: ConversationMemory | None = None
) -> None:
    """Pass live events (state changes, agent messages, typing) to the socket; on a customer's socket, keep its
    memory of the conversation's state current too."""
    async for event in events:
        if memory is not None:
            memory.heard(event)
        try:
            await outbox.send(event)
        except (RuntimeError, WebSocketDisconnect):  # the socket closed under us
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
    outbox: Outbox, engine: DialogueEngine, handoff: HandoffService, conversation: str, frame: MessageIn,
    settings: Settings, memory: ConversationMemory,
) -> None:
    try:
        turn: Turn = await engine.respond(conversation, frame.text.strip(), frame.id, memory)
    except Exception:
        log.exception("turn failed in conversation %s", conversation)
        await outbox.send(error_frame("internal", "the bot could not answer; please try again", frame.id))
        return
    if turn.reply is None:  # a person handles this conversation (or the actions said nothing): no bot reply
        await outbox.send({"type": "message.received", "in_reply_to": frame.id, "message_id": turn.message_id})
        await handoff.announce(turn.logged)
        return
    for reply in turn.replies:  # a custom action may say several things: each streams as its own reply
        await _stream(outbox, reply, frame.id, settings)
    await handoff.announce(turn.logged)  # after the reply, so a handoff's state frame follows its text


async def _stream(outbox: Outbox, reply: BotReply, in_reply_to: str | None, settings: Settings) -> None:
    start: dict[str, Any] = {
        "type": "reply.start", "reply_id": reply.reply_id, "in_reply_to": in_reply_to,
        "intent": reply.intent, "confidence": reply.confidence, "route": reply.route.value,
    }
    if reply.action:
        start["action"] = reply.action
    await outbox.send(start)
    delay = settings.stream_delay_ms / 1000
    for piece in chunks(reply.text, settings.stream_chunk_words):
        await outbox.send({"type": "reply.delta", "reply_id": reply.reply_id, "text": piece})
        if delay:
            await asyncio.sleep(delay)
    end: dict[str, Any] = {
        "type": "reply.end", "reply_id": reply.reply_id, "text": reply.text, "faq_id": reply.faq_id,
        "score": reply.score, "suggestions": reply.suggestions,
    }
    # a custom action's structured message: buttons (a title, and the payload a press sends), image, custom
    end.update(structured(reply))
    await outbox.send(end)


async def _rate(outbox: Outbox, store: TranscriptStore, conversation: str, frame: FeedbackIn) -> None:
    try:
        await anyio.to_thread.run_sync(store.record_feedback, conversation, frame.reply_id, frame.rating)
    except UnknownReply:
        await outbox.send(error_frame("unknown_reply", f"no reply {frame.reply_id} in this conversation"))
        return
    await outbox.send({"type": "feedback.ok", "reply_id": frame.reply_id, "rating": frame.rating})
