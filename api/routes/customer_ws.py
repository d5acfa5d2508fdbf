"""The customer socket ``/ws``: admitted (``api.customer_session``), then its conversation (``api.customer_chat``)
until the customer leaves or the server drains."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.customer_chat import Chat
from api.customer_session import (
    TRY_LATER_CLOSE,
    UNAVAILABLE,
    Refused,
    admit,
    client_address,
    first_frame,
    open_session,
)
from api.deps import AddressLimitsDep, RuntimeDep
from api.outbox import Outbox
from api.protocol import error_frame
from bot.conversations.handoff import HandoffService
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.transcripts import OUTAGES
from bot.turn.engine import DialogueEngine
from bot.turn.memory import ConversationMemory

log = logging.getLogger(__name__)
router = APIRouter()

READY_TIMEOUT_S = 120.0
RESTART_CLOSE = 1012  # service restart: the widget reconnects at once (through the proxy, to another server)
RECONNECT = {"type": "reconnect", "message": "the server is restarting; reconnect to go on with the conversation"}


@router.websocket("/ws")
async def customer_socket(websocket: WebSocket, runtime: RuntimeDep, limits: AddressLimitsDep) -> None:
    settings, address = runtime.settings, client_address(websocket)
    await websocket.accept()
    with limits.holding(address) as admitted:
        try:
            if not admitted:
                raise Refused(error_frame("too_many_connections", "too many chat connections from your address",
                                          retry_after=60), 1013)
            await admit(websocket, settings, limits, address)
            if runtime.draining.is_set():
                raise Refused(RECONNECT, RESTART_CLOSE)
            engine = await runtime.wait_ready(READY_TIMEOUT_S)
            if engine is None or runtime.handoff is None:
                raise Refused(error_frame("unavailable", runtime.error or "the bot is still loading"), 1013)
            opening = await first_frame(websocket, settings)
            if opening is None:
                return
            session = await open_session(engine, opening, settings, limits, address)
        except Refused as refused:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.send_json(refused.frame)
                await websocket.close(code=refused.code)
            return
        except WebSocketDisconnect:
            return
        runtime.sockets += 1
        try:
            await _converse(websocket, engine, runtime.handoff, session, settings, runtime)
        finally:
            runtime.sockets -= 1


async def _converse(websocket: WebSocket, engine: DialogueEngine, handoff: HandoffService, session: dict[str, Any],
                    settings: Settings, runtime: Runtime) -> None:
    conversation = session["conversation_id"]
    outbox = Outbox(websocket)
    chat = Chat(outbox, engine, handoff, conversation, settings, ConversationMemory("bot", 0, settings.context_turns))
    chat.seen = max((item.get("message_id") or 0 for item in session.get("history", ())), default=0)
    subscribed = asyncio.Event()
    listening = asyncio.create_task(chat.listen(runtime.bus, subscribed))
    await subscribed.wait()
    # read after subscribing, so no state change falls between the read and the events that follow it (a new
    # conversation has nothing to read, which also serves new customers while the database is out)
    if session["resumed"]:
        try:
            chat.memory = await engine.in_thread(ConversationMemory.read, engine.store, conversation,
                                                 settings.context_turns)
        except OUTAGES:
            listening.cancel()
            await outbox.send(UNAVAILABLE)
            await websocket.close(code=TRY_LATER_CLOSE)
            return
    session.update(welcome=engine.replies.welcome, max_message_chars=settings.max_message_chars,
                   state=chat.memory.state, agent=chat.memory.agent)
    await outbox.send(session)
    chat.live.set()
    answering = asyncio.create_task(chat.answer_in_order())
    catching_up = asyncio.create_task(chat.catch_up(runtime.bus))
    reading = asyncio.create_task(chat.read(websocket))
    draining = asyncio.create_task(runtime.draining.wait())
    try:
        await asyncio.wait((reading, draining), return_when=asyncio.FIRST_COMPLETED)
        if draining.done() and not reading.done():  # the server stops: finish, then send the widget elsewhere
            reading.cancel()
            await chat.finish()
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await outbox.send(RECONNECT)
                await websocket.close(code=RESTART_CLOSE)
    finally:
        tasks = (reading, draining, listening, answering, catching_up)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
