"""Live events between customers and agents: in-process by default, across replicas through Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from redis.exceptions import RedisError

Event = dict[str, Any]
AGENTS = "agents"  # every agent socket listens here
DEFAULT_QUEUE = 256  # events kept for one subscriber that has not read them yet
REDIS_RETRY_S = 2.0  # while Redis is out, how often a subscription asks whether it is back
log = logging.getLogger(__name__)


class SubscriberDropped(Exception):
    """A subscription ended: its subscriber fell too far behind (``slow``: its socket closes and its client
    reconnects), or the bus under it changed (Redis went out or came back: subscribe again)."""

    def __init__(self, channel: str, slow: bool = False) -> None:
        super().__init__(channel)
        self.slow = slow


def agent_session_channel(agent_id: int) -> str:
    """"Re-check your session now", for the agent sockets of one agent (its sessions were revoked)."""
    return f"agent-session:{agent_id}"


ERASED = "conversation.erased"  # an erased conversation: consoles drop it, the customer's sockets close


def customer_channel(conversation_id: str) -> str:
    """Frames for the customer's own sockets (every open tab of that conversation)."""
    return f"customer:{conversation_id}"


class EventBus(Protocol):
    degraded: bool  # events reach this server's own subscribers only (Redis is out)

    async def publish(self, channel: str, event: Event) -> None: ...

    def subscribe(self, channel: str) -> Any:
        """An async context manager yielding an async iterator of the channel's events."""

    async def listened(self, channel: str) -> bool:
        """Whether anyone (on any replica) subscribes to ``channel`` now, so an event is worth building."""

    async def close(self) -> None: ...


_DROPPED: Event = {"type": "_dropped"}  # put where a subscriber's events were, once it fell behind


class LocalBus:
    """Delivers events to subscribers in this process only (one server, or tests); a subscriber with
    ``max_queue`` events unread is dropped rather than buffered for without end."""

    def __init__(self, max_queue: int = DEFAULT_QUEUE) -> None:
        self._queues: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self.max_queue = max_queue
        self.degraded = False

    async def publish(self, channel: str, event: Event) -> None:
        for queue in list(self._queues.get(channel, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self._queues[channel].discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(_DROPPED)

    async def listened(self, channel: str) -> bool:
        return bool(self._queues.get(channel))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self.max_queue)
        self._queues[channel].add(queue)

        async def events() -> AsyncIterator[Event]:
            while True:
                event = await queue.get()
                if event is _DROPPED:
                    raise SubscriberDropped(channel, slow=True)
                yield event

        try:
            yield events()
        finally:
            self._queues[channel].discard(queue)
            if not self._queues[channel]:
                del self._queues[channel]

    async def close(self) -> None:
        self._queues.clear()


class RedisBus:
    """Redis pub/sub, so an agent on one replica talks with a customer on another.

    A Redis outage must not stop customers chatting: while Redis cannot be reached, events go to this replica's
    own subscribers (a ``LocalBus``) and ``degraded`` is True; a subscription made then ends (``SubscriberDropped``)
    as soon as Redis answers again, so that its socket subscribes anew and catches up from the database.
    """

    def __init__(self, url: str, max_queue: int = DEFAULT_QUEUE) -> None:
        import redis.asyncio as redis

        # a dead Redis must be noticed in seconds: a connect timeout, and pings on idle subscriptions
        self._redis = redis.from_url(url, socket_connect_timeout=2, health_check_interval=15)
        self._local = LocalBus(max_queue)
        self.degraded = False
        self._warned = 0.0

    async def publish(self, channel: str, event: Event) -> None:
        try:
            await self._redis.publish(f"helpline:{channel}", json.dumps(event))
            self.degraded = False
        except RedisError as exc:
            self._out(exc)
            await self._local.publish(channel, event)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Event]]:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(f"helpline:{channel}")
            # wait for Redis to confirm, so no event published after this returns is missed
            while (await pubsub.get_message(timeout=5.0)) is None:
                pass
        except RedisError as exc:
            self._out(exc)
            await pubsub.aclose()
            async with self._local.subscribe(channel) as local:
                yield self._until_redis_returns(channel, local)
            return
        self.degraded = False

        async def events() -> AsyncIterator[Event]:
            try:
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        yield json.loads(message["data"])
            except RedisError as exc:  # Redis went away (or dropped a subscriber over its output buffer limit)
                self._out(exc)
                raise SubscriberDropped(channel) from exc

        try:
            yield events()
        finally:
            with contextlib.suppress(RedisError):
                await pubsub.unsubscribe()
            await pubsub.aclose()

    async def _until_redis_returns(self, channel: str, local: AsyncIterator[Event]) -> AsyncIterator[Event]:
        """This replica's events for ``channel``, until Redis answers again."""
        next_event: asyncio.Future[Event] = asyncio.ensure_future(anext(local))
        try:
            while True:
                done, _ = await asyncio.wait({next_event}, timeout=REDIS_RETRY_S)
                if done:
                    yield next_event.result()
                    next_event = asyncio.ensure_future(anext(local))
                elif await self._answers():
                    raise SubscriberDropped(channel)
        finally:
            next_event.cancel()

    async def _answers(self) -> bool:
        try:
            await self._redis.ping()
        except RedisError:
            return False
        self.degraded = False
        return True

    def _out(self, exc: Exception) -> None:
        self.degraded = True
        if time.monotonic() - self._warned > 60:
            self._warned = time.monotonic()
            log.warning("Redis is out (%s): live events stay on this server until it is back", exc)

    async def listened(self, channel: str) -> bool:
        # asked each time, not cached: a console that subscribed a moment ago must get the next event
        try:
            counts = await self._redis.pubsub_numsub(f"helpline:{channel}")
        except RedisError:
            return await self._local.listened(channel)
        return any(int(count) > 0 for _, count in counts)

    async def close(self) -> None:
        await self._redis.aclose()


async def announce_erased(bus: EventBus, conversation_ids: list[str]) -> None:
    """Tell every console and the customer's open sockets (on any replica) that these conversations are gone."""
    for conversation_id in conversation_ids:
        event = {"type": ERASED, "conversation_id": conversation_id}
        await bus.publish(AGENTS, event)
        await bus.publish(customer_channel(conversation_id), event)


def make_bus(redis_url: str | None, max_queue: int = DEFAULT_QUEUE) -> EventBus:
    return RedisBus(redis_url, max_queue) if redis_url else LocalBus(max_queue)
