"""The load client: customers on ``/ws`` sending questions, every reply frame timed against its message.

Two ways to load a server. ``closed_loop``: N customers, ramped in, each sends its next question as soon as the
previous one's ``reply.end`` arrives, until the level's time is up. ``open_loop``: a fixed offered load, each
message sent at its scheduled time whatever the server is doing, and timed from that scheduled time, so a queue
in the server (or in this client) shows up in the latency instead of quietly lowering the load (no coordinated
omission). A message not answered within ``timeout`` seconds of its start counts as lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

HANDED_OFF = frozenset({"waiting", "agent"})  # states in which the bot stays silent


@dataclass
class Sent:
    """One customer message and the times (``time.perf_counter``) its reply frames arrived."""

    id: str
    text: str
    scheduled: float  # when it was due: the send time in a closed loop, the schedule's in an open one
    sent: float | None = None
    start: float | None = None  # reply.start
    delta: float | None = None  # first reply.delta
    end: float | None = None  # reply.end
    outcome: str = "pending"  # ok | handoff | error:<code> | timeout | closed | unsent
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def finish(self, outcome: str, at: float | None = None) -> None:
        if self.outcome != "pending":
            return  # e.g. a reply that arrives after the message was given up on
        self.outcome = outcome
        if outcome == "ok":
            self.end = at
        self.done.set()


class Customer:
    """One widget: a socket, the messages it is waiting on, and the frames that come back matched to them."""

    def __init__(self, url: str, timeout: float, closes: list[str] | None = None) -> None:
        self.url, self.timeout = url, timeout
        self.closes = closes if closes is not None else []  # why sockets closed that this client did not close
        self.pending: dict[str, Sent] = {}
        self.by_reply: dict[str, Sent] = {}
        self.handed_off = False  # a person now handles the chat: start a new conversation for more bot turns
        self.closed = False
        self._closing = False
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> float:
        """Connect and read the session frame; the seconds that took."""
        started = time.perf_counter()
        # no client pings: the widget sends none, and a ping timeout under load would close the socket
        self._ws = await connect(self.url, open_timeout=self.timeout, ping_interval=None, max_size=None)
        await self._ws.send('{"type": "start"}')
        session = json.loads(await asyncio.wait_for(self._ws.recv(), self.timeout))
        if session.get("type") != "session":
            raise ConnectionError(f"expected a session frame, got {session}")
        self.handed_off = session.get("state") in HANDED_OFF
        self._reader = asyncio.create_task(self._read(self._ws))
        return time.perf_counter() - started

    async def send(self, message: Sent) -> None:
        assert self._ws is not None
        self.pending[message.id] = message
        message.sent = time.perf_counter()
        try:
            await self._ws.send(json.dumps({"type": "message", "id": message.id, "text": message.text}))
        except ConnectionClosed:
            self.closed = True
            self.pending.pop(message.id, None)
            message.finish("closed")

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self._dispatch(json.loads(raw), time.perf_counter())
        except ConnectionClosed as exc:
            if not self._closing:
                frame = exc.rcvd or exc.sent
                if frame is None:
                    self.closes.append("connection lost without a close frame")
                else:
                    by = "server" if exc.rcvd is not None and exc.rcvd_then_sent is not False else "client"
                    self.closes.append(f"closed by the {by}: {frame.code} {frame.reason}".strip())
        finally:
            self.closed = True
            for message in self.pending.values():
                message.finish("closed")
            self.pending.clear()

    def _dispatch(self, frame: dict[str, Any], now: float) -> None:
        kind = frame.get("type")
        if kind == "reply.start":
            message = self.pending.get(str(frame.get("in_reply_to")))
            if message is not None:
                message.start = now
                self.by_reply[frame["reply_id"]] = message
        elif kind == "reply.delta":
            message = self.by_reply.get(frame["reply_id"])
            if message is not None and message.delta is None:
                message.delta = now
        elif kind == "reply.end":
            message = self.by_reply.pop(frame["reply_id"], None)
            if message is not None:
                self.pending.pop(message.id, None)
                message.finish("ok", now)
        elif kind == "message.received":  # stored, but a person answers: not a bot reply
            message = self.pending.pop(str(frame.get("in_reply_to")), None)
            if message is not None:
                message.finish("handoff", now)
        elif kind == "error":
            message = self.pending.pop(str(frame.get("in_reply_to")), None)
            if message is not None:
                message.finish(f"error:{frame.get('code')}", now)
        elif kind == "state":
            self.handed_off = frame.get("state") in HANDED_OFF

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


@dataclass
class Load:
    """What one load run sent and saw; ``window`` is the span its throughput is counted over."""

    label: str
    connections: int
    rate: float | None  # messages/s offered (open loop); None: back-to-back (closed loop)
    messages: list[Sent] = field(default_factory=list)
    connect_s: list[float] = field(default_factory=list)
    failed_connects: list[str] = field(default_factory=list)
    closes: list[str] = field(default_factory=list)  # sockets closed under the client, and why
    window: tuple[float, float] = (0.0, 0.0)
    started: float = 0.0
    finished: float = 0.0


async def _wait(message: Sent, timeout: float) -> None:
    """Wait for the message's last frame until ``timeout`` seconds after it was due; then it is lost."""
    remaining = message.scheduled + timeout - time.perf_counter()
    try:
        await asyncio.wait_for(message.done.wait(), max(remaining, 0.001))
    except TimeoutError:
        message.finish("timeout")


async def _fresh(url: str, timeout: float, load: Load) -> Customer | None:
    customer = Customer(url, timeout, load.closes)
    try:
        load.connect_s.append(await customer.open())
    except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed, ConnectionError) as exc:
        load.failed_connects.append(f"{type(exc).__name__}: {exc}"[:200])
        await customer.close()
        return None
    return customer


async def closed_loop(url: str, connections: int, questions: list[str], prefix: str, ramp_s: float,
                      seconds: float, timeout: float) -> Load:
    """``connections`` customers, opened evenly over ``ramp_s``, sending back-to-back for ``seconds`` after it."""
    load = Load(f"{connections} connection{'s' if connections != 1 else ''}", connections, None)
    load.started = t0 = time.perf_counter()
    ramp_end = t0 + ramp_s * (connections - 1) / connections
    deadline = ramp_end + seconds

    async def customer_loop(index: int) -> None:
        await asyncio.sleep(index * ramp_s / connections)
        customer: Customer | None = None
        seq = 0
        try:
            while time.perf_counter() < deadline:
                if customer is None or customer.handed_off or customer.closed:
                    if customer is not None:
                        await customer.close()
                    customer = await _fresh(url, timeout, load)
                    if customer is None:
                        return
                message = Sent(f"{prefix}{index}-{seq}", questions[(index * 7 + seq) % len(questions)],
                               time.perf_counter())
                load.messages.append(message)
                await customer.send(message)
                await _wait(message, timeout)
                seq += 1
        finally:
            if customer is not None:
                await customer.close()

    await asyncio.gather(*(customer_loop(i) for i in range(connections)))
    load.window = (ramp_end, deadline)
    load.finished = time.perf_counter()
    return load


async def open_loop(url: str, connections: int, rate: float, questions: list[str], prefix: str, ramp_s: float,
                    seconds: float, timeout: float) -> Load:
    """``rate`` messages/s for ``seconds``, round-robin over ``connections`` opened beforehand over ``ramp_s``."""
    load = Load(f"{rate:g} msg/s over {connections} connections", connections, rate)
    load.started = time.perf_counter()

    async def opened(index: int) -> Customer | None:
        await asyncio.sleep(index * ramp_s / connections)
        return await _fresh(url, timeout, load)

    customers = list(await asyncio.gather(*(opened(i) for i in range(connections))))
    t0 = time.perf_counter() + 0.05
    total = round(rate * seconds)
    schedule = [Sent(f"{prefix}{k % connections}-{k // connections}",
                     questions[(k * 7) % len(questions)], t0 + k / rate) for k in range(total)]
    load.messages = schedule
    retired: list[Customer] = []  # handed-off conversations still owing replies

    async def sender(index: int) -> None:
        mine = schedule[index::connections]
        for message in mine:
            delay = message.scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            customer = customers[index]
            if customer is None or customer.handed_off or customer.closed:
                if customer is not None:
                    retired.append(customer)
                customer = customers[index] = await _fresh(url, timeout, load)
            if customer is None:
                message.finish("unsent")
                continue
            await customer.send(message)
        for message in mine:
            await _wait(message, timeout)

    await asyncio.gather(*(sender(i) for i in range(connections)))
    await asyncio.gather(*(c.close() for c in [*customers, *retired] if c is not None))
    load.window = (t0, t0 + seconds)
    load.finished = time.perf_counter()
    return load
