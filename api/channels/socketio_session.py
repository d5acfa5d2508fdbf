"""One socket of Rasa's socket.io channel: the session it asked for, and that session's conversation driven by
the customer socket's own ``Chat`` (limits, queue, turns, live events), its frames translated to Rasa's events.

As with Rasa's ``session_persistence: true``, a ``session_id`` is the conversation, whatever socket says it:
every socket of a session is in its room and hears the bot's replies; an agent's messages reach each socket
through the conversation's live events, on any replica.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import socketio

from api.channels.payloads import agent_utterance, bot_message, socketio_messages
from api.channels.senders import conversation_for
from api.customer_chat import Chat
from api.outbox import TOO_SLOW_CLOSE
from api.throttle import AddressLimits
from bot.runtime import Runtime
from bot.turn.memory import ConversationMemory

RECONNECT_CLOSES = (TOO_SLOW_CLOSE, 1012)  # closed so that the client reconnects (it catches up, or goes elsewhere)


class SocketioOutbox:
    """Helpline's frames as Rasa's socket.io events: a reply's messages as ``bot_uttered`` to the session's room,
    an agent's message as ``bot_uttered`` to this socket, an error as an ``error`` event; the rest (streaming,
    state, typing) has no Rasa event and is not sent."""

    def __init__(self, sio: socketio.AsyncServer, sid: str, room: str) -> None:
        self.sio, self.sid, self.room = sio, sid, room

    async def send(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "reply.end":
            for payload in socketio_messages(bot_message(frame)):
                await self.sio.emit("bot_uttered", payload, to=self.room)
        elif kind == "agent.message":
            await self.sio.emit("bot_uttered", agent_utterance(frame), to=self.sid)
        elif kind == "error":
            await self.sio.emit("error", {key: frame[key] for key in ("code", "message", "retry_after")
                                          if key in frame}, to=self.sid)

    async def close(self, code: int) -> None:
        if code in RECONNECT_CLOSES:  # the transport drops: socket.io clients reconnect by themselves
            eio_sid = self.sio.manager.eio_sid_from_sid(self.sid, "/")
            transport = self.sio.eio.sockets.get(eio_sid) if eio_sid is not None else None
            if transport is not None:  # not waiting for a long-polling client to collect a goodbye: it may be gone
                await transport.close(wait=False, abort=True)
        else:  # a disconnect the client does not retry (an erased conversation)
            await self.sio.disconnect(self.sid)


class ChannelSocket:
    """One connected socket.io client: its address, and once it named its session, that session's chat."""

    def __init__(self, sio: socketio.AsyncServer, runtime: Runtime, limits: AddressLimits, sid: str,
                 address: str) -> None:
        self.sio, self.runtime, self.limits, self.sid, self.address = sio, runtime, limits, sid, address
        self.session_id: str | None = None
        self.chat: Chat | None = None
        self.gone = False  # the client disconnected (perhaps while its session was opening)
        self._tasks: list[asyncio.Task[Any]] = []

    async def open(self, session_id: str) -> None:
        """Go on with the conversation ``session_id`` names (opened when new); a repeated request changes nothing.
        ``Refused`` when the address has started too many conversations; a database outage raises as it is."""
        if self.chat is not None and session_id == self.session_id:
            return
        await self.end()
        runtime = self.runtime
        engine, handoff, settings = runtime.engine, runtime.handoff, runtime.settings
        assert engine is not None and handoff is not None  # checked when the socket connected
        conversation = await conversation_for(engine, self.limits, self.address, "socketio", session_id)
        room = f"session:{session_id}"
        chat = Chat(SocketioOutbox(self.sio, self.sid, room), engine, handoff, conversation, settings,
                    ConversationMemory("bot", 0, settings.context_turns), streaming=False, input_channel="socketio")
        subscribed = asyncio.Event()
        listening = asyncio.create_task(chat.listen(runtime.bus, subscribed))
        await subscribed.wait()
        try:  # read after subscribing, so no state change falls between the read and the events after it
            chat.memory = await engine.in_thread(ConversationMemory.read, engine.store, conversation,
                                                 settings.context_turns)
        except BaseException:
            listening.cancel()
            raise
        if self.gone:  # the client left while the session opened: nothing may outlive it
            listening.cancel()
            return
        await self.sio.enter_room(self.sid, room)
        self.session_id, self.chat = session_id, chat
        runtime.sockets += 1
        self._tasks = [listening, asyncio.create_task(chat.answer_in_order()),
                       asyncio.create_task(chat.catch_up(runtime.bus)), asyncio.create_task(self._drain(chat))]

    def confirmed(self) -> None:
        """The client has its ``session_confirm``: live events may follow it."""
        if self.chat is not None:
            self.chat.live.set()

    async def _drain(self, chat: Chat) -> None:
        """When the server stops: finish the messages taken, then close the transport (the client reconnects,
        through the proxy, to another server)."""
        await self.runtime.draining.wait()
        await chat.finish()
        await chat.outbox.close(1012)

    async def leave(self) -> None:
        """The client disconnected."""
        self.gone = True
        await self.end()

    async def end(self) -> None:
        """The socket left (or asked for another session): its tasks end; a message being answered is finished."""
        if self.chat is None:
            return
        tasks, self._tasks, self.chat = self._tasks, [], None
        self.runtime.sockets -= 1
        tasks = [task for task in tasks if task is not asyncio.current_task()]  # the drain that closed the socket
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.session_id is not None:
            await self.sio.leave_room(self.sid, f"session:{self.session_id}")
