"""Fuzzed frames on a real customer socket, and what came of them: shared by ``tests/api/test_protocol_fuzz.py``
and ``benchmarks/fuzz_protocol.py``.

A ``Fuzzer`` sends frames (``tests.protocol_frames``) to a real ``helpline serve``. Each step may begin on a fresh
socket whose first frames are fuzzed before it says ``start`` or ``resume``; the rest go to an open
conversation, sent back to back as a script would. Then it proves the socket still works: a valid message,
waited for until it is answered (``reply.end``) or taken (``message.received``, when a person holds the
chat). It counts frames by category, error frames by code and closes by code, and calls a problem any
``internal`` error frame, any close the frames sent did not ask for, any check not answered, and any line of
the server's log with a traceback or ``ERROR``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, text
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.protocol_frames import CONVERSATION_ID, QUESTIONS, REPLY_ID, TOKEN, Frame, dumps

INVALID_TOKEN_CLOSE = 4401  # a resume whose token does not match: the server says invalid_token and closes
NO_CLOSE_FRAME = 1006  # the socket ended without a close frame (the server reset it mid-frame)
READ_TIMEOUT_S = 120.0  # a check waits behind the fuzzed messages queued before it, on a busy machine
# the kinds of problem
LOGGED, INTERNAL = "a traceback or ERROR in the server's log", "an internal error frame"
CLOSED, UNANSWERED = "a close the frames did not ask for", "a socket that did not answer a valid message"


@dataclass
class Tally:
    """What a run sent and what came back."""

    frames: Counter[str] = field(default_factory=Counter)  # in an open conversation, by category
    handshake_frames: Counter[str] = field(default_factory=Counter)  # before start/resume, by category
    errors: Counter[str] = field(default_factory=Counter)  # error frames received, by code
    closes: Counter[int] = field(default_factory=Counter)  # sockets the server closed, by code
    problems: list[str] = field(default_factory=list)  # each shown with the frames sent before it
    problem_kinds: Counter[str] = field(default_factory=Counter)  # LOGGED, INTERNAL, CLOSED, UNANSWERED
    checks: int = 0  # usable-socket checks answered
    checks_sent: int = 0  # check messages sent (one refused by a rate limit is sent again on a fresh socket)
    answered: list[str] = field(default_factory=list)  # the client ids of the check messages answered
    acknowledged: int = 0  # every message answered or taken, fuzzed or check
    conversations: list[str] = field(default_factory=list)
    sockets: int = 0  # sockets opened

    @property
    def total(self) -> int:
        return sum(self.frames.values()) + sum(self.handshake_frames.values())


class LogWatch:
    """New lines of the server's log that say something went wrong."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, path.stat().st_size

    def new_errors(self) -> list[str]:
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            tail = handle.read()
        self.offset += len(tail)
        lines = tail.decode(errors="replace").splitlines()
        return ["\n".join(lines[n:n + 40]) for n, line in enumerate(lines)
                if _starts_error(lines[max(0, n - 2):n], line)]


class Fuzzer:
    """Fuzzed frames on sockets to ``ws_url``, one socket at a time, and their tally. ``addresses``: when the
    server trusts 127.0.0.1 as its proxy, each socket comes from the next (a visitor of its own)."""

    def __init__(self, ws_url: str, log: Path, addresses: Iterator[str] | None = None) -> None:
        self.ws_url, self.watch, self.addresses = ws_url, LogWatch(log), addresses
        self.tally = Tally()
        self.ws: ClientConnection | None = None
        self.may_close: set[int] = set()  # the closes the frames sent on this socket may cause
        self.session: tuple[str, str] | None = None  # the conversation going on: id and token
        self.reply_id = "no-reply-yet"
        self.sent_last: deque[str] = deque(maxlen=100)  # the frames sent on this socket lately, shown with a problem
        self.numbers = itertools.count(1)
        self.last_check = ""  # the text of the last check message answered

    # -- one step ---------------------------------------------------------------------------------------------

    def step(self, frames: Sequence[Frame], handshake: int = 0, new: bool = False) -> list[str]:
        """Send ``frames`` (the first ``handshake`` of them on a fresh socket, before it says ``start``, or
        ``resume`` unless ``new``), then check the socket still answers; the problems this step found."""
        before = len(self.tally.problems)
        if handshake or new or self.session is None:
            self._handshake(frames[:handshake], new or self.session is None)
        for frame in frames[handshake:]:
            self._chat(frame)
        self._check()
        for error in self.watch.new_errors():
            self.problem(LOGGED, f"the server's log: {error}")
        return self.tally.problems[before:]

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(ConnectionClosed, OSError):
                self.ws.close()
            self.ws = None

    # -- sockets ----------------------------------------------------------------------------------------------

    def _connect(self) -> ClientConnection:
        self.close()
        headers = {"X-Forwarded-For": next(self.addresses)} if self.addresses is not None else None
        self.ws = connect(self.ws_url, open_timeout=30, max_queue=None, max_size=None, additional_headers=headers)
        self.may_close = set()
        self.sent_last.clear()
        self.tally.sockets += 1
        return self.ws

    def _open(self) -> ClientConnection:
        """The open conversation's socket: this one, or a new one that resumes it."""
        if self.ws is not None:
            return self.ws
        ws = self._connect()
        if self.session is None:
            ws.send(json.dumps({"type": "start"}))
        else:
            ws.send(json.dumps({"type": "resume", "conversation_id": self.session[0], "token": self.session[1]}))
        frame = self._receive(ws)
        if frame is None or frame.get("type") != "session":
            raise AssertionError(f"the server did not open the conversation: {frame}")
        self._opened(frame)
        return ws

    def _opened(self, session: dict[str, Any]) -> None:
        self.session = session["conversation_id"], session["token"]
        if session["conversation_id"] not in self.tally.conversations:
            self.tally.conversations.append(session["conversation_id"])

    def _send(self, ws: ClientConnection, frame: Frame) -> bool:
        """Send one frame, its stand-ins filled in, and when that makes it one the server closes the socket for
        (over the protocol's limit, not UTF-8), read until it does; False when the socket closed otherwise."""
        data = frame.data
        if isinstance(data, str):
            conversation, token = self.session or ("0" * 32, "not-a-token")
            data = (data.replace(dumps(REPLY_ID), dumps(self.reply_id))
                    .replace(dumps(CONVERSATION_ID), dumps(conversation)).replace(dumps(TOKEN), dumps(token)))
        closing = Frame(frame.category, data, frame.binary).close_code  # as sent: a stand-in filled adds bytes
        if closing is not None:
            self.may_close |= {closing, NO_CLOSE_FRAME}
        self.sent_last.append(f"{frame.category}: {_short(data)}")
        try:
            ws.send(data, text=not frame.binary)
        except (ConnectionClosed, OSError) as closed:
            self._closed(closed)
            return closing is not None  # cut off while it was being sent: the server refused it
        if closing is not None:
            self._until_closed(ws)
        return True

    def _receive(self, ws: ClientConnection, timeout: float = READ_TIMEOUT_S) -> dict[str, Any] | None:
        """The next frame from the server, tallied; None when the server closed the socket."""
        try:
            frame: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
        except (ConnectionClosed, OSError) as closed:
            self._closed(closed)
            return None
        except TimeoutError:
            self.problem(UNANSWERED, f"no frame from the server in {timeout:.0f} s")
            self.close()
            return None
        kind = frame.get("type")
        if kind == "error":
            self.tally.errors[frame["code"]] += 1
            if frame["code"] == "internal":
                self.problem(INTERNAL, f"an internal error frame: {frame}")
            if frame["code"] in ("invalid_token", "token_expired"):
                self.may_close.add(INVALID_TOKEN_CLOSE)
        elif kind == "reply.start":
            self.reply_id = frame["reply_id"]
            self.tally.acknowledged += 1
        elif kind == "message.received":
            self.tally.acknowledged += 1
        return frame

    def _closed(self, closed: Exception) -> None:
        code = closed.rcvd.code if isinstance(closed, ConnectionClosed) and closed.rcvd else NO_CLOSE_FRAME
        self.tally.closes[code] += 1
        if code not in self.may_close:
            self.problem(CLOSED, f"the server closed the socket with {code}")
        self.ws = None

    def _until_closed(self, ws: ClientConnection) -> None:
        while self.ws is ws and self._receive(ws) is not None:
            pass

    def problem(self, kind: str, what: str) -> None:
        """Count a problem of ``kind`` (one of the constants above), shown with the frames sent last."""
        self.tally.problem_kinds[kind] += 1
        self.tally.problems.append(f"{what}; the last frames sent: {list(self.sent_last)}")

    # -- the parts of a step ----------------------------------------------------------------------------------

    def _handshake(self, frames: Sequence[Frame], new: bool) -> None:
        """A fresh socket: each frame answered in turn (an error, or a session when one opened it), then
        ``start`` or ``resume`` when none did; frames left after a session opened go to the conversation."""
        ws = self._connect()
        for n, frame in enumerate(frames):
            self.tally.handshake_frames[frame.category] += 1
            if self._send(ws, frame) and self.ws is ws:  # one answer to each frame, unless it closed the socket
                answer = self._receive(ws)
                if answer is not None and answer.get("type") == "session":
                    self._opened(answer)
                    for rest in frames[n + 1:]:
                        self._chat(rest)
                    return
                if self.ws is ws and INVALID_TOKEN_CLOSE in self.may_close:
                    self._until_closed(ws)
            if self.ws is not ws:
                ws = self._connect()
        if new:
            ws.send(json.dumps({"type": "start"}))
            session = self._receive(ws)
            if session is None or session.get("type") != "session":
                raise AssertionError(f"start did not open a conversation: {session}")
            self._opened(session)
        else:
            self.close()  # _open resumes on a fresh socket
            self._open()

    def _chat(self, frame: Frame) -> None:
        ws = self._open()
        self.tally.frames[frame.category] += 1
        self._send(ws, frame)

    def _check(self, attempts: int = 3) -> None:
        """A valid message on the conversation's socket, read up to its answer; refused by a rate limit, or its
        socket closed, it goes again on a fresh socket (whose limits are fresh)."""
        for _ in range(attempts):
            ws, number = self._open(), next(self.numbers)
            client_id = f"check-{number}"
            self.tally.checks_sent += 1
            if not self._send(ws, Frame("check", json.dumps({"type": "message", "id": client_id,
                                                             "text": QUESTIONS[number % len(QUESTIONS)]}))):
                continue
            outcome = self._await(ws, client_id)
            if outcome == "answered":
                self.tally.checks += 1
                self.tally.answered.append(client_id)
                self.last_check = QUESTIONS[number % len(QUESTIONS)]
                return
            if outcome == "rate_limited":
                self.close()
            elif outcome != "closed":
                break
        self.problem(UNANSWERED, "the socket did not answer a valid message")

    def _await(self, ws: ClientConnection, client_id: str) -> str:
        """Read until ``client_id`` is answered in full or taken ("answered"), refused ("rate_limited", or the
        error's code), or the socket closes or says nothing ("closed")."""
        reply_id = None
        while (frame := self._receive(ws)) is not None:
            kind = frame.get("type")
            if kind == "message.received" and frame.get("in_reply_to") == client_id:
                return "answered"
            if kind == "reply.start" and frame.get("in_reply_to") == client_id:
                reply_id = frame["reply_id"]
            elif kind == "reply.end" and reply_id is not None and frame.get("reply_id") == reply_id:
                return "answered"
            elif kind == "error" and frame.get("in_reply_to") == client_id:
                return str(frame["code"])
        return "closed"


def _starts_error(before: list[str], line: str) -> bool:
    """Whether ``line`` begins an error: an ``ERROR`` line, or a traceback that is not that line's own (nor the
    next part of a chained one)."""
    if "ERROR" in line:
        return True
    return "Traceback (most recent call last)" in line and not any(
        "ERROR" in earlier or "exception occurred" in earlier or "direct cause" in earlier for earlier in before)


def _short(data: str | bytes, keep: int = 160) -> str:
    return repr(data) if len(data) <= keep else f"{data[:keep]!r}… ({len(data)} long)"


def stored_checks(database_url: str, conversations: Sequence[str]) -> list[str]:
    """The client ids of the check messages stored in ``conversations``."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = text("SELECT client_id FROM messages WHERE role = 'customer' AND client_id LIKE 'check-%' "
                         "AND conversation_id IN :ids").bindparams(bindparam("ids", expanding=True))
            return [row[0] for row in connection.execute(query, {"ids": list(conversations)})]
    finally:
        engine.dispose()


def stored_messages(database_url: str, conversations: Sequence[str]) -> int:
    """How many customer messages ``conversations`` hold."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = text("SELECT count(*) FROM messages WHERE role = 'customer' AND conversation_id IN :ids"
                         ).bindparams(bindparam("ids", expanding=True))
            return int(connection.execute(query, {"ids": list(conversations)}).scalar_one())
    finally:
        engine.dispose()


def stored_texts(database_url: str, conversation: str) -> list[str]:
    """The customer messages of ``conversation`` as stored, oldest first."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT text FROM messages WHERE role = 'customer' AND conversation_id = "
                                           ":c ORDER BY id"), {"c": conversation})
            return [row[0] for row in rows]
    finally:
        engine.dispose()

