"""The agent socket ``/agent/ws``: live inbox events, customer messages and typing, for logged-in agents;
it closes (4401) once the login it opened with has ended."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ValidationError

from api.agent_session import UNAUTHORIZED_CLOSE, SessionWatch, close_when_session_ends
from api.deps import SESSION_COOKIE, RuntimeDep, session_token
from api.outbox import Outbox, forward
from api.protocol import error_frame
from api.routes.customer_ws import READY_TIMEOUT_S
from bot.conversations.events import AGENTS, EventBus, agent_session_channel
from bot.workspace.accounts import Accounts, InvalidSession

router = APIRouter()
REFRESH_S = 5.0


class AgentTypingIn(BaseModel):
    type: str
    conversation_id: str
    active: bool


def _cross_site_cookie(websocket: WebSocket) -> bool:
    """A cookie-authenticated socket opened by another site's page (cross-site WebSocket hijacking)."""
    if SESSION_COOKIE not in websocket.cookies or "authorization" in websocket.headers:
        return False
    origin = websocket.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != websocket.headers.get("host")


async def refresh_while_degraded(bus: EventBus, outbox: Outbox) -> None:
    """While live events cannot cross servers (Redis is out), tell the console every few seconds to read the
    inbox and the open conversation from the database: live handoff goes on, only slower."""
    while True:
        await asyncio.sleep(REFRESH_S)
        if bus.degraded:
            await outbox.send({"type": "refresh"})


@router.websocket("/agent/ws")
async def agent_socket(websocket: WebSocket, runtime: RuntimeDep) -> None:
    await websocket.accept()
    await runtime.wait_ready(READY_TIMEOUT_S)
    if runtime.store is None or runtime.handoff is None:
        await websocket.send_json(error_frame("unavailable", runtime.error or "the server is starting"))
        await websocket.close(code=1013)
        return
    settings = runtime.settings
    accounts = Accounts(runtime.store, settings.session_hours)
    token = None if _cross_site_cookie(websocket) else session_token(websocket)
    try:
        agent, expires_at = await anyio.to_thread.run_sync(accounts.session_for_token, token or "")
    except InvalidSession:
        await websocket.send_json(error_frame("unauthorized", "log in as an agent"))
        await websocket.close(code=UNAUTHORIZED_CLOSE)
        return
    handoff, outbox = runtime.handoff, Outbox(websocket)
    watch = SessionWatch(accounts, token or "", expires_at, settings.session_check_seconds)
    # both subscriptions hold before "hello": an agent told it is connected is also one a revocation reaches
    async with runtime.bus.subscribe(AGENTS) as events, \
            runtime.bus.subscribe(agent_session_channel(agent.id)) as revocations:
        await outbox.send({"type": "hello", "agent": agent.to_dict()})
        tasks = [asyncio.create_task(forward(events, outbox)),
                 asyncio.create_task(close_when_session_ends(watch, revocations, outbox)),
                 asyncio.create_task(refresh_while_degraded(runtime.bus, outbox))]
        try:
            while True:
                raw = await websocket.receive_text()
                try:
                    frame = json.loads(raw)
                    if isinstance(frame, dict) and frame.get("type") == "ping":
                        await outbox.send({"type": "pong"})
                        continue
                    typing = AgentTypingIn.model_validate(frame)
                except (json.JSONDecodeError, ValidationError):
                    await outbox.send(error_frame("bad_frame", "expected a typing or ping frame"))
                    continue
                await handoff.agent_typing(typing.conversation_id, agent, typing.active)
        except (WebSocketDisconnect, KeyError, RuntimeError):  # closed, or a binary frame on a closing socket
            return
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
