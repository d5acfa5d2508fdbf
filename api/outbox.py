"""What a socket sends: one writer at a time, and live events passed on from the event bus.

A customer's conversation speaks Helpline's frames to a ``Sink``: the ``/ws`` socket's ``Outbox`` sends them as
they are; the Rasa channels (``api.channels``) translate them into Rasa's messages.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

from fastapi import WebSocket, WebSocketDisconnect

from bot.conversations.events import SubscriberDropped

# A socket too slow to keep up with its live events is closed with "try again later": it reconnects and reads
# the history, instead of the server buffering events for it without end.
TOO_SLOW_CLOSE = 1013


class Listener(Protocol):
    def heard(self, event: dict[str, Any]) -> None: ...


class Sink(Protocol):
    """Where a customer's frames go: a socket, or a Rasa channel's translation of them."""

    async def send(self, frame: dict[str, Any]) -> None: ...

    async def close(self, code: int) -> None: ...


class Outbox:
    """Serialises sends: replies and live events (agent messages, state) share one socket."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._lock:
            await self.websocket.send_json(frame)

    async def close(self, code: int) -> None:
        await self.websocket.close(code=code)


async def forward(events: AsyncIterator[dict[str, Any]], outbox: Sink, listener: Listener | None = None,
                  resubscribe: bool = False) -> None:
    """Pass live events (state changes, agent messages, typing) to the socket; ``listener`` hears each first (a
    customer's socket keeps its memory of the conversation's state current, and notes what it has shown).
    Returns when the socket closes. A subscriber the bus dropped for falling behind closes the socket, so that
    its client reconnects and catches up; when the bus under it changed, ``resubscribe`` raises
    ``SubscriberDropped`` for the caller to subscribe again, else the socket closes too."""
    try:
        async for event in events:
            if listener is not None:
                listener.heard(event)
            await outbox.send(event)
    except (RuntimeError, WebSocketDisconnect):  # the socket closed under us
        return
    except SubscriberDropped as dropped:
        if resubscribe and not dropped.slow:
            raise
        with contextlib.suppress(RuntimeError):
            await outbox.close(TOO_SLOW_CLOSE)
