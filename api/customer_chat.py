"""One customer socket's conversation once it is open: its limits, its queue of messages answered in order,
its live events, and what answers each frame.

One task reads the socket all the time, so pings are answered and limits applied however long a reply takes;
messages wait in a short queue and are answered one after another, in order. Every refusal is an error frame
and the socket stays usable; a turn that fails gets an ``internal`` error frame and the socket goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from api.customer_session import INVALID_TOKEN_CLOSE
from api.outbox import Sink, forward
from api.protocol import (
    FeedbackIn,
    FrameError,
    MessageIn,
    PingIn,
    TypingIn,
    error_frame,
    parse_client_frame,
    too_big,
)
from api.throttle import SocketLimits
from bot.conversations.events import ERASED, EventBus, SubscriberDropped, customer_channel
from bot.conversations.handoff import HandoffService
from bot.settings import Settings
from bot.store.transcripts import OUTAGES, UnknownConversation, UnknownReply
from bot.turn.engine import DialogueEngine
from bot.turn.memory import ConversationMemory
from bot.turn.outcome import BotReply, Turn, structured
from bot.turn.streaming import chunks

log = logging.getLogger(__name__)


class ConversationErased(Exception):
    """The socket's conversation was erased while it was open."""


CATCH_UP_S = 2.0  # while Redis is out, how often a customer socket reads what agents said from the database


class Chat:
    """One customer socket's conversation: its limits, its queue of messages, and what answers each frame."""

    def __init__(self, outbox: Sink, engine: DialogueEngine, handoff: HandoffService, conversation: str,
                 settings: Settings, memory: ConversationMemory, streaming: bool = True,
                 input_channel: str = "helpline") -> None:
        self.outbox, self.engine, self.handoff, self.conversation = outbox, engine, handoff, conversation
        self.settings, self.memory = settings, memory
        self.streaming = streaming  # False: each reply whole (reply.start, reply.end), for the Rasa channels
        self.input_channel = input_channel  # as the Rasa tracker names it: "rest", "socketio"
        self.limits = SocketLimits(settings)
        self.queue: asyncio.Queue[MessageIn] = asyncio.Queue(settings.frame_burst)
        self.seen = 0  # the newest message this socket's customer has been shown
        self.live = asyncio.Event()  # set once the session frame is out: live events may follow it

    async def listen(self, bus: EventBus, subscribed: asyncio.Event) -> None:
        """Pass the conversation's live events to the socket, subscribing again whenever the bus under it
        changes (Redis out, or back), and then reading what was missed meanwhile from the database."""
        changed = False
        try:
            while True:
                try:
                    async with bus.subscribe(customer_channel(self.conversation)) as events:
                        subscribed.set()
                        await self.live.wait()
                        if changed:
                            await self._catch_up_once()
                        await forward(events, self.outbox, self, resubscribe=True)
                        return
                except SubscriberDropped:
                    changed = True
        except ConversationErased:
            await self.end_erased()
        finally:
            subscribed.set()  # never leave the socket waiting on a subscription that failed

    def heard(self, event: dict[str, Any]) -> None:
        """A live event on its way to the customer: the memory keeps the state, and what was shown is noted
        (``ConversationErased`` when an admin or retention erased the conversation)."""
        if event.get("type") == ERASED:
            raise ConversationErased(self.conversation)
        self.memory.heard(event)
        if event.get("type") == "agent.message" and isinstance(event.get("message_id"), int):
            self.seen = max(self.seen, event["message_id"])

    async def catch_up(self, bus: EventBus) -> None:
        """While live events cannot cross servers (Redis is out), read from the database what an agent on
        another server said and did, so a handoff goes on, only slower."""
        while True:
            await asyncio.sleep(CATCH_UP_S)
            if bus.degraded:
                await self._catch_up_once()

    async def _catch_up_once(self) -> None:
        try:
            frames, state = await self.engine.in_thread(self.handoff.missed, self.conversation, self.seen)
        except OUTAGES:
            return
        for frame in frames:
            self.heard(frame)
            await self._send(frame)
        if (state["state"], state["agent"]) != (self.memory.state, self.memory.agent):
            self.heard(state)
            await self._send(state)

    async def read(self, websocket: WebSocket) -> None:
        """Take frames until the socket closes; each is answered, refused or queued at once."""
        try:
            while True:
                event = await websocket.receive()
                if event["type"] == "websocket.disconnect":
                    return
                try:
                    await self.take(event.get("text"))
                except (RuntimeError, WebSocketDisconnect):
                    raise
                except Exception:  # one frame's failure is that frame's, never the socket's
                    log.exception("a frame failed in conversation %s", self.conversation)
                    await self.outbox.send(error_frame("internal", "the server could not handle that frame"))
        except (WebSocketDisconnect, RuntimeError):  # closed under us
            return

    async def take(self, raw: str | None) -> None:
        """One frame from the customer: answered, refused or queued at once."""
        settings = self.settings
        try:
            if raw is None:
                raise FrameError("binary_frame", "send JSON text frames, not binary")
            if too_big(raw, settings.max_frame_bytes):
                raise FrameError("frame_too_large", f"frames may be at most {settings.max_frame_bytes} bytes")
            frame = parse_client_frame(raw, settings.max_message_chars)
        except FrameError as exc:
            await self.refuse(exc)
            return
        kind = frame.type if frame.type in ("message", "typing", "feedback") else "other"
        wait = self.limits.take(kind)
        client_id = frame.id if isinstance(frame, MessageIn) else None
        if wait or (isinstance(frame, MessageIn) and self.queue.full()):
            await self.outbox.send(error_frame("rate_limited", f"too many {kind} frames; slow down",
                                               client_id, retry_after=wait or 1.0))
        elif isinstance(frame, MessageIn):
            self.queue.put_nowait(frame)
        elif isinstance(frame, FeedbackIn):
            await self._rate(frame)
        elif isinstance(frame, TypingIn):
            await self.handoff.customer_typing(self.conversation, frame.active)
        elif isinstance(frame, PingIn):
            await self.outbox.send({"type": "pong"})
        else:
            await self.outbox.send(error_frame("session_open", "this socket already has its conversation"))

    async def refuse(self, exc: FrameError) -> None:
        """A malformed frame gets its error frame, unless too many came (they share one bucket with pings)."""
        if not self.limits.take("other"):
            await self.outbox.send(error_frame(exc.code, str(exc), exc.client_id))

    async def answer_in_order(self) -> None:
        """Answer queued messages one at a time; a message being answered when the socket closes is finished
        (its turn is stored), the ones still queued were never acknowledged and the widget sends them again."""
        while True:
            frame = await self.queue.get()
            try:
                await asyncio.shield(self.answer(frame))
            finally:
                self.queue.task_done()

    async def finish(self) -> None:
        """Wait until every message taken so far is answered."""
        await self.queue.join()

    async def end_erased(self) -> None:
        """The conversation was erased: say so and close as for a token that no longer resumes anything (the
        widget then forgets it and starts afresh)."""
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await self.outbox.send(error_frame("erased", "this conversation was erased"))
            await self.outbox.close(INVALID_TOKEN_CLOSE)

    async def _gone(self) -> bool:
        """Whether the conversation no longer exists (erased by a command this server heard nothing of)."""
        try:
            await self.engine.in_thread(self.engine.store.conversation_state, self.conversation)
        except UnknownConversation:
            return True
        except Exception:  # the database is away: that is the turn's failure, not an erasure
            return False
        return False

    async def answer(self, frame: MessageIn) -> None:
        """One message's turn, through the engine, its replies sent and the turn announced to the consoles."""
        try:
            turn: Turn = await self.engine.respond(self.conversation, frame.text.strip(), frame.id, self.memory,
                                                   frame.metadata, self.input_channel)
        except Exception:
            if await self._gone():
                await self.end_erased()
                return
            log.exception("turn failed in conversation %s", self.conversation)
            await self._send(error_frame("internal", "the bot could not answer; please try again", frame.id))
            return
        try:
            if turn.reply is None:  # a person handles this conversation (or the actions said nothing)
                await self._send({"type": "message.received", "in_reply_to": frame.id,
                                  "message_id": turn.message_id})
            for reply in turn.replies:  # a custom action may say several things: each streams as its own reply
                await self._stream(reply, frame.id)
        finally:  # after the reply, so a handoff's state frame follows its text; even when the socket is gone
            try:
                await self.handoff.announce(turn.logged)
            except Exception:  # the agents' live view can be rebuilt from the log; the customer was answered
                log.exception("could not announce a turn of conversation %s", self.conversation)

    async def _send(self, frame: dict[str, Any]) -> None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # the customer left: the turn is stored
            await self.outbox.send(frame)

    async def _stream(self, reply: BotReply, in_reply_to: str | None) -> None:
        start: dict[str, Any] = {
            "type": "reply.start", "reply_id": reply.reply_id, "in_reply_to": in_reply_to,
            "intent": reply.intent, "confidence": reply.confidence, "route": reply.route.value,
        }
        if reply.action:
            start["action"] = reply.action
        await self._send(start)
        delay = self.settings.stream_delay_ms / 1000
        for piece in chunks(reply.text, self.settings.stream_chunk_words) if self.streaming else ():
            await self._send({"type": "reply.delta", "reply_id": reply.reply_id, "text": piece})
            if delay:
                await asyncio.sleep(delay)
        end: dict[str, Any] = {
            "type": "reply.end", "reply_id": reply.reply_id, "text": reply.text, "faq_id": reply.faq_id,
            "score": reply.score, "suggestions": reply.suggestions,
        }
        # a custom action's structured message: buttons (a title, and the payload a press sends), image, custom
        end.update(structured(reply))
        await self._send(end)

    async def _rate(self, frame: FeedbackIn) -> None:
        try:
            await self.engine.in_thread(self.engine.store.record_feedback, self.conversation, frame.reply_id,
                                        frame.rating)
        except UnknownReply:
            await self.outbox.send(error_frame("unknown_reply", f"no reply {frame.reply_id} in this conversation"))
            return
        await self.outbox.send({"type": "feedback.ok", "reply_id": frame.reply_id, "rating": frame.rating})
