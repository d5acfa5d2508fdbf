"""Rasa's socket.io channel, mounted at ``/socket.io/`` in the same app, so that front-ends written for Rasa
(rasa-webchat and others) connect unchanged: ``session_request`` → ``session_confirm``, ``user_uttered`` →
``bot_uttered``, with Rasa's payloads and ``session_persistence: true``.

python-socketio speaks the Socket.IO protocol of socket.io-client 3.x and 4.x (rasa-webchat 1.x uses 3.x). The
limits are the customer socket's: pages from ``HELPLINE_ALLOWED_ORIGINS`` only, sockets per address open and
opened a minute, conversations started a minute, and each socket's message buckets and queue. A malformed event
gets an ``error`` event (``{"code", "message"}``, the codes of ``/ws``) and the socket goes on.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, TypeGuard

import socketio

from api.channels.socketio_session import ChannelSocket
from api.customer_session import Refused
from api.origins import widget_origin_allowed
from api.protocol import FrameError, error_frame
from api.throttle import AddressLimits
from bot.runtime import Runtime
from bot.store.senders import MAX_SENDER_CHARS
from bot.store.transcripts import OUTAGES


class SocketioChannel:
    """The socket.io server, its ASGI app (``app``), and the sockets connected to it here."""

    def __init__(self, runtime: Runtime, limits: AddressLimits) -> None:
        self.runtime, self.limits = runtime, limits
        settings = runtime.settings
        self.sio = socketio.AsyncServer(
            async_mode="asgi", cors_allowed_origins=self._allowed, max_http_buffer_size=settings.max_frame_bytes,
            logger=False, engineio_logger=False,
        )
        self.app = socketio.ASGIApp(self.sio, socketio_path="socket.io")
        self.sockets: dict[str, ChannelSocket] = {}
        for event in ("connect", "disconnect", "session_request", "user_uttered"):
            self.sio.on(event, getattr(self, event))

    def _allowed(self, origin: str | None, environ: dict[str, Any]) -> bool:
        return widget_origin_allowed(origin, environ.get("HTTP_HOST"), self.runtime.settings.origins)

    async def _error(self, sid: str, code: str, message: str, retry_after: float | None = None) -> None:
        frame = error_frame(code, message, retry_after=retry_after)
        await self.sio.emit("error", {key: value for key, value in frame.items() if key != "type"}, to=sid)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Admit the socket as ``/ws`` admits one (else ``connect_error``: its message, and ``data``
        ``{"code", "retry_after"}``)."""
        client = (environ.get("asgi.scope") or {}).get("client")
        address = client[0] if client else "unknown"
        runtime, limits = self.runtime, self.limits
        if runtime.draining.is_set() or runtime.engine is None or runtime.handoff is None:
            raise _refusal("unavailable", runtime.error or "the bot is not ready; try again shortly", 5)
        if not limits.take_open(address):
            raise _refusal("too_many_connections", "too many chat connections from your address", 60)
        wait = await limits.hit("connect", address)
        if wait:
            limits.release_open(address)
            raise _refusal("too_many_connections", "too many chat connections from your address; try again "
                           "shortly", wait)
        self.sockets[sid] = ChannelSocket(self.sio, runtime, limits, sid, address)

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        socket = self.sockets.pop(sid, None)
        if socket is not None:
            await socket.leave()
            self.limits.release_open(socket.address)

    async def session_request(self, sid: str, data: Any = None) -> None:
        """``{"session_id": …}``: go on with that session (a new one when it is missing or null), then
        ``session_confirm`` with its id, as Rasa answers."""
        socket = self.sockets.get(sid)
        if socket is None:
            return
        session_id = data.get("session_id") if isinstance(data, dict) else None
        if session_id is not None and not _valid_session(session_id):
            await self._error(sid, "bad_field", f"session_id must be a non-empty string of at most "
                                                f"{MAX_SENDER_CHARS} characters, or null for a new session")
            return
        session_id = session_id or uuid.uuid4().hex
        if await self._opened(socket, session_id):
            await self.sio.emit("session_confirm", session_id, to=sid)
            socket.confirmed()

    async def user_uttered(self, sid: str, data: Any = None) -> None:
        """``{"message", "session_id", "customData"|"metadata"}``: the customer's message, answered with
        ``bot_uttered`` events (none while a person handles the chat)."""
        socket = self.sockets.get(sid)
        if socket is None:
            return
        if not isinstance(data, dict):
            await self._error(sid, "bad_json", "user_uttered takes an object: {\"message\": …, \"session_id\": …}")
            return
        named = data.get("session_id")
        if socket.chat is None:  # no session_request first: the message names its session
            if not _valid_session(named):
                await self._error(sid, "expected_session", "send session_request first, or name the session_id")
                return
            if not await self._opened(socket, named):
                return
            socket.confirmed()
        elif named is not None and named != socket.session_id:
            await self._error(sid, "session_open", f"this socket's session is {socket.session_id}; connect again "
                                                   "for another")
            return
        chat, message = socket.chat, data.get("message")
        assert chat is not None
        if not isinstance(message, str) or not message.strip():
            await chat.refuse(FrameError("empty_text", "user_uttered needs a non-empty 'message'"))
            return
        metadata = data.get("metadata", data.get("customData"))  # rasa-webchat sends its customData
        frame = {"type": "message", "text": message, **({"metadata": metadata} if metadata is not None else {})}
        await chat.take(json.dumps(frame))

    async def _opened(self, socket: ChannelSocket, session_id: str) -> bool:
        """Open the session on the socket; a refusal is told as an ``error`` event (False)."""
        try:
            await socket.open(session_id)
        except Refused as refused:
            frame = refused.frame
            await self._error(socket.sid, frame["code"], frame["message"], frame.get("retry_after"))
            return False
        except OUTAGES:
            await self._error(socket.sid, "unavailable", "the conversation cannot be reached right now; try again "
                                                         "shortly", 5)
            return False
        return True


def _valid_session(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= MAX_SENDER_CHARS and bool(value.strip())


def _refusal(code: str, message: str, retry_after: float) -> socketio.exceptions.ConnectionRefusedError:
    """A refused connection: ``connect_error`` carries the message, and ``data`` its code and when to retry."""
    frame = error_frame(code, message, retry_after=retry_after)
    return socketio.exceptions.ConnectionRefusedError(message, {"code": code, "retry_after": frame["retry_after"]})
