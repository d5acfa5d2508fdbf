"""Rasa's REST channel: ``POST /webhooks/rest/webhook`` with ``{"sender", "message"}`` answers the list of bot
messages, as Rasa's own does, so a team's scripts, monitoring and custom front-ends keep working unchanged.

A sender is a conversation (``bot.store.senders``), answered by the same turn as the customer socket (a ``Chat``
that collects its frames instead of streaming them), logged and shown to the agents alike. While a person handles
the conversation the answer is an empty list: REST cannot carry the agent's later messages. Limits are the
customer socket's: a sender has a socket's message bucket, a new sender counts as a new conversation of its
address, and an address has at most ``HELPLINE_CONNECTIONS_PER_ADDRESS`` requests in flight here.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response

from api.channels.payloads import bot_message, rest_messages
from api.channels.senders import conversation_for
from api.customer_chat import Chat
from api.customer_session import Refused
from api.deps import AddressLimitsDep, RuntimeDep
from api.origins import widget_origin_allowed
from api.protocol import MessageIn, small_object
from api.schemas.base import problem
from api.schemas.rasa import RasaBotMessageOut, RasaChannelOut, RasaMessageIn
from api.throttle import SenderBuckets
from bot.settings import Settings
from bot.store.senders import MAX_SENDER_CHARS
from bot.store.transcripts import OUTAGES
from bot.turn.memory import ConversationMemory

router = APIRouter(tags=["rasa channels"])
WEBHOOK = "/webhooks/rest/webhook"
BODY = "the body must be a JSON object {\"sender\": …, \"message\": …}"


class RestChannel:
    """What the REST channel keeps between requests: each sender's bucket, and one turn at a time per
    conversation, so a sender's messages are answered in the order they came."""

    def __init__(self, settings: Settings) -> None:
        self.buckets = SenderBuckets(settings)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn_of(self, conversation: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(conversation, (asyncio.Lock(), 0))
        self._locks[conversation] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation]
            if users <= 1:
                del self._locks[conversation]
            else:
                self._locks[conversation] = (lock, users - 1)


class Collected:
    """A ``Chat``'s frames for one message, kept for the answer instead of sent."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)

    async def close(self, code: int) -> None:
        pass


def _refuse(code: int, detail: str, retry_after: float | None = None) -> HTTPException:
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after is not None else None
    return HTTPException(code, detail, headers)


def read_body(raw: bytes, max_chars: int) -> tuple[str, str, dict[str, Any] | None]:
    """The sender, the message and its metadata of a webhook body; a 400 that says what is wrong with a bad one."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise _refuse(status.HTTP_400_BAD_REQUEST, f"{BODY}; this one is not JSON") from None
    if not isinstance(body, dict):
        raise _refuse(status.HTTP_400_BAD_REQUEST, BODY)
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise _refuse(status.HTTP_400_BAD_REQUEST, f"'sender' must be a non-empty string of at most "
                                                   f"{MAX_SENDER_CHARS} characters")
    if not isinstance(message, str) or not message.strip():
        raise _refuse(status.HTTP_400_BAD_REQUEST, "'message' must be a non-empty string")
    if len(message) > max_chars:
        raise _refuse(status.HTTP_400_BAD_REQUEST, f"'message' is {len(message)} characters; the limit is {max_chars}")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _refuse(status.HTTP_400_BAD_REQUEST, "'metadata' must be a JSON object when given")
    try:
        return sender, message, None if metadata is None else small_object(metadata)
    except ValueError as exc:
        raise _refuse(status.HTTP_400_BAD_REQUEST, f"'metadata' {exc}") from None


def _cors(request: Request, settings: Settings) -> dict[str, str]:
    """The CORS headers for a page's request (a 403 when the page may not talk to the bot)."""
    origin = request.headers.get("origin")
    if not widget_origin_allowed(origin, request.headers.get("host"), settings.origins):
        raise _refuse(status.HTTP_403_FORBIDDEN, f"pages at {origin} may not talk to this bot; the server's "
                                                 "HELPLINE_ALLOWED_ORIGINS must list them")
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}


@router.get("/webhooks/rest/", response_model=RasaChannelOut)
async def read_rest_channel() -> dict[str, str]:
    """The channel is there (Rasa's health check of a channel)."""
    return {"status": "ok"}


@router.options(WEBHOOK, status_code=204, responses={403: problem("The page's origin is not allowed")})
async def allow_rest_webhook(request: Request, runtime: RuntimeDep) -> Response:
    """CORS preflight, for a front-end on a page of another allowed origin."""
    headers = _cors(request, runtime.settings)
    return Response(status_code=204, headers={**headers, "Access-Control-Allow-Methods": "POST",
                                              "Access-Control-Allow-Headers": "Content-Type",
                                              "Access-Control-Max-Age": "600"})


@router.post(
    WEBHOOK, response_model=list[RasaBotMessageOut],
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": RasaMessageIn.model_json_schema()}}}},
    responses={400: problem("Not JSON, or `sender`/`message` missing or of the wrong type"),
               403: problem("The page's origin is not allowed"),
               429: problem("Over a limit: send it again after `Retry-After` seconds"),
               500: problem("The bot could not answer; the message is stored"),
               503: problem("The bot is loading, or the database cannot be reached")},
)
async def receive_rest_message(request: Request, runtime: RuntimeDep, limits: AddressLimitsDep) -> JSONResponse:
    """Answer one customer message with the bot's messages (an empty list while a person handles the chat)."""
    settings = runtime.settings
    cors = _cors(request, settings)
    sender, text, metadata = read_body(await request.body(), settings.max_message_chars)
    engine, handoff = runtime.engine, runtime.handoff
    if engine is None or handoff is None:
        raise _refuse(status.HTTP_503_SERVICE_UNAVAILABLE, runtime.error or "the bot is still loading", 5)
    channel: RestChannel = request.app.state.rest_channel
    address = request.client.host if request.client else "unknown"
    collected = Collected()
    with limits.holding(address) as admitted:
        if not admitted:
            raise _refuse(status.HTTP_429_TOO_MANY_REQUESTS, "too many requests at once from your address", 1)
        wait = channel.buckets.take(sender)
        if wait:
            raise _refuse(status.HTTP_429_TOO_MANY_REQUESTS, "too many messages from this sender; slow down", wait)
        try:
            conversation = await conversation_for(engine, limits, address, "rest", sender)
            async with channel.turn_of(conversation):
                memory = await engine.in_thread(ConversationMemory.read, engine.store, conversation,
                                                settings.context_turns)
                chat = Chat(collected, engine, handoff, conversation, settings, memory, streaming=False,
                            input_channel="rest")
                # shielded: a client that hangs up does not cut the turn (it is stored and announced all the same)
                await asyncio.shield(chat.answer(MessageIn(type="message", text=text, metadata=metadata)))
        except Refused as refused:
            raise _refuse(status.HTTP_429_TOO_MANY_REQUESTS, refused.frame["message"],
                          refused.frame.get("retry_after")) from None
        except OUTAGES:
            raise _refuse(status.HTTP_503_SERVICE_UNAVAILABLE, "the conversation cannot be reached right now; try "
                                                              "again shortly", 5) from None
    frames = collected.frames
    failed = next((frame for frame in frames if frame["type"] == "error"), None)
    if failed is not None:
        raise _refuse(status.HTTP_500_INTERNAL_SERVER_ERROR, failed["message"])
    said = [message for frame in frames if frame["type"] == "reply.end"
            for message in rest_messages(bot_message(frame), sender)]
    return JSONResponse(said, headers=cors)
