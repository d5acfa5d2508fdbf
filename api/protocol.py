"""The customer socket's JSON frames: what the widget sends, what the server answers."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

# What JSON text can carry in a string and neither UTF-8 (the socket, the logs) nor PostgreSQL can: a lone
# surrogate (a "\ud800" escape, as a widget that cut an emoji in half sends) and NUL.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> bool:
    """A NUL character (PostgreSQL refuses it in text) or a lone surrogate (no database can encode it)."""
    return UNSTORABLE.search(text) is not None


def storable(value: Any) -> Any:
    """A message's text with each NUL and lone surrogate replaced by U+FFFD (as a browser's TextEncoder does with a
    lone surrogate), so the message is stored and answered instead of failing its turn."""
    return UNSTORABLE.sub("\ufffd", value) if isinstance(value, str) else value


def no_nul(value: str) -> str:
    """An identifier (a lone surrogate is already refused as a string that is not unicode)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


ClientId = Annotated[str, StringConstraints(max_length=64), AfterValidator(no_nul)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(no_nul)]


METADATA_DEPTH, METADATA_CHARS = 8, 4000


def small_object(value: dict[str, Any]) -> dict[str, Any]:
    """A message's ``metadata``, as Rasa passes it to the tracker: a JSON object, shallow and small, with no text
    the database cannot take."""
    def depth(node: Any, level: int = 0) -> int:  # objects and arrays around a value; stops past the limit
        if not isinstance(node, dict | list):
            return level
        if level >= METADATA_DEPTH:
            return level + 1
        children = node.values() if isinstance(node, dict) else node
        return max((depth(child, level + 1) for child in children), default=level + 1)

    if depth(value) > METADATA_DEPTH:
        raise ValueError(f"must be nested at most {METADATA_DEPTH} levels deep")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)  # NaN: no JSON for PostgreSQL
    except ValueError:
        raise ValueError("must be plain JSON (no NaN or Infinity)") from None
    if len(text) > METADATA_CHARS or unstorable(text) or "\\u0000" in text:  # json.dumps escapes NUL
        raise ValueError(f"must be at most {METADATA_CHARS} characters of JSON, with no NUL or lone surrogate")
    return value


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["message"]
    text: Annotated[str, BeforeValidator(storable)]
    id: ClientId | None = None
    metadata: Annotated[dict[str, Any], AfterValidator(small_object)] | None = None


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["feedback"]
    reply_id: Key
    rating: Literal["up", "down"]


class TypingIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["typing"]
    active: bool


class PingIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["ping"]


class StartIn(BaseModel):
    """The first frame of a new conversation."""

    model_config = ConfigDict(extra="ignore")
    type: Literal["start"]


class ResumeIn(BaseModel):
    """The first frame of a socket that goes on with a conversation: its id and secret token (never in the URL,
    where logs would keep them)."""

    model_config = ConfigDict(extra="ignore")
    type: Literal["resume"]
    conversation_id: Key
    token: Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(no_nul)]


AnyClientFrame = MessageIn | FeedbackIn | TypingIn | PingIn | StartIn | ResumeIn
ClientFrame = Annotated[AnyClientFrame, Field(discriminator="type")]
_client_frame: TypeAdapter[AnyClientFrame] = TypeAdapter(ClientFrame)
KNOWN_TYPES = ("message", "feedback", "typing", "ping", "start", "resume")


class FrameError(ValueError):
    """A client frame the server cannot use; ``code`` goes back to the client in an error frame."""

    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.client_id = client_id  # the message's own id, so the widget can mark that bubble


def parse_client_frame(raw: str, max_chars: int) -> AnyClientFrame:
    """Parse and validate one text frame, raising ``FrameError`` with the code the client sees."""
    try:
        data: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FrameError("bad_json", f"frame is not valid JSON: {exc.msg} at column {exc.colno}") from exc
    except (ValueError, RecursionError) as exc:  # a number too long to convert, or nesting too deep
        raise FrameError("bad_json", "frame is not JSON this server reads (too deeply nested, or a number "
                                     "too long)") from exc
    if not isinstance(data, dict):
        raise FrameError("bad_json", "frame must be a JSON object")
    kind = data.get("type")
    client_id = echoable(data.get("id"))
    if kind not in KNOWN_TYPES:
        raise FrameError("unknown_type", f"unknown frame type {shown(kind)}; expected one of {', '.join(KNOWN_TYPES)}")
    if kind == "message":
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FrameError("empty_text", "a message needs a non-empty 'text'", client_id)
        if len(text) > max_chars:
            raise FrameError(
                "text_too_long", f"message is {len(text)} characters; the limit is {max_chars}", client_id
            )
    try:
        return _client_frame.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "frame"
        raise FrameError("bad_field", f"{where}: {first['msg']}", client_id) from exc


def too_big(raw: str, limit: int) -> bool:
    """Whether a text frame is over ``limit`` bytes of UTF-8 (counted only when its length leaves a doubt)."""
    return len(raw) > limit or (len(raw) * 4 > limit and len(raw.encode()) > limit)


def echoable(client_id: Any) -> str | None:
    """The client id an error frame may name: one a message could have (a string of at most 64 characters,
    no NUL), that the socket can carry back (no lone surrogate)."""
    if isinstance(client_id, str) and len(client_id) <= 64 and not unstorable(client_id):
        return client_id
    return None


def shown(value: Any, keep: int = 40) -> str:
    """A client's value as an error message quotes it: escaped and cut short, so that an error frame never grows
    with what the client sent (and an array or object nested deep is never walked again)."""
    if isinstance(value, list | dict):
        return f"(a JSON {'array' if isinstance(value, list) else 'object'})"
    text = repr(value[:keep + 1] if isinstance(value, str) else value)
    return text if len(text) <= keep else f"{text[:keep]}…"


def error_frame(code: str, message: str, in_reply_to: str | None = None,
                retry_after: float | None = None) -> dict[str, Any]:
    """An error frame; ``in_reply_to`` names the client message it concerns, when there is one, and
    ``retry_after`` says in how many seconds the same frame would be taken (for a limit)."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if in_reply_to is not None:
        frame["in_reply_to"] = in_reply_to
    if retry_after is not None:
        frame["retry_after"] = round(retry_after, 1)
    return frame
