"""Live events between customers and agents: in-process by default, across replicas through Redis."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from redis.exceptions import RedisError

Event = dict[str, Any]
AGENTS = "agents"  # every agent socket listens here
DEFAULT_QUEUE = 256  # events kept for one subscriber that has not read them yet


class SubscriberDropped(Exception):
    """A subscriber fell too far behind, or the bus under it failed: it gets no more events (its socket closes
    and its client reconnects)."""


def customer_channel(conversation_id: str) -> str:
    """Frames for the customer's own sockets (every open tab of that conversation)."""
    return f"customer:{conversation_id}"


class EventBus(Protocol):
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
                    raise SubscriberDropped(channel)
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
    """Redis pub/sub, so an agent on one replica talks with a customer on another."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)

    async def publish(self, channel: str, event: Event) -> None:
        await self._redis.publish(f"helpline:{channel}", json.dumps(event))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Event]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(f"helpline:{channel}")
        # wait for Redis to confirm, so no event published after this returns is missed
        while (await pubsub.get_message(timeout=5.0)) is None:
            pass

        async def events() -> AsyncIterator[Event]:
            try:
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        yield json.loads(message["data"])
            except RedisError as exc:  # Redis went away (or dropped a subscriber over its output buffer limit)
                raise SubscriberDropped(channel) from exc

        try:
            yield events()
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    async def listened(self, channel: str) -> bool:
        # asked each time, not cached: a console that subscribed a moment ago must get the next event
        counts = await self._redis.pubsub_numsub(f"helpline:{channel}")
        return any(int(count) > 0 for _, count in counts)

    async def close(self) -> None:
        await self._redis.aclose()


def make_bus(redis_url: str | None, max_queue: int = DEFAULT_QUEUE) -> EventBus:
    return RedisBus(redis_url) if redis_url else LocalBus(max_queue)
