"""Limits on what one visitor may ask of the server: frames per socket, sockets and conversations per address.

Frames are limited per socket with token buckets (a burst, then a steady rate), kept in the socket itself.
Addresses are limited per minute with the ``limits`` library, in Redis when one is configured so that every
replica counts the same visitor once, else in memory. A Redis outage must not stop customers chatting, so an
address check that cannot reach its storage lets the visitor in (and says so in the log, once a minute).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from bot.settings import Settings

log = logging.getLogger(__name__)

FRAME_KINDS = ("message", "typing", "feedback", "other")


class Bucket:
    """A token bucket: ``burst`` frames at once, then ``per_minute`` a minute."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = per_minute / 60.0, float(burst), clock
        self.tokens, self.stamp = float(burst), clock()

    def take(self) -> float:
        """Spend one token: 0.0 when there was one, else the seconds until there will be (nothing is spent)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class SocketLimits:
    """One customer socket's buckets, one per kind of frame (pings and anything malformed count as "other")."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        per_minute = {"message": settings.messages_per_minute, "typing": settings.typing_per_minute,
                      "feedback": settings.feedback_per_minute, "other": settings.typing_per_minute}
        self.buckets = {kind: Bucket(per_minute[kind], settings.frame_burst, clock) for kind in FRAME_KINDS}

    def take(self, kind: str) -> float:
        """0.0 when a frame of ``kind`` may go through now, else the seconds to wait."""
        return self.buckets.get(kind, self.buckets["other"]).take()


class SenderBuckets:
    """Messages per Rasa REST sender: each sender a message bucket as a customer socket has, kept while it is not
    full again (a full bucket is what a new one would be, so forgetting it changes nothing)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.burst, self.clock = settings.messages_per_minute, settings.frame_burst, clock
        self.refill = 60.0 * self.burst / max(self.per_minute, 1e-9)  # seconds from empty to full
        self.buckets: dict[str, tuple[Bucket, float]] = {}

    def take(self, sender: str) -> float:
        """0.0 when ``sender`` may send a message now, else the seconds to wait."""
        now = self.clock()
        if len(self.buckets) > 1000:  # forget the senders idle long enough to be full again
            self.buckets = {key: kept for key, kept in self.buckets.items() if now - kept[1] < self.refill}
        bucket = self.buckets[sender][0] if sender in self.buckets else Bucket(self.per_minute, self.burst, self.clock)
        self.buckets[sender] = (bucket, now)
        return bucket.take()


class AddressLimits:
    """Sockets and new conversations per client address per minute, and open sockets per address here."""

    def __init__(self, settings: Settings) -> None:
        self.storage: Storage = (
            RedisStorage(f"async+{settings.redis_url}", implementation="redispy", key_prefix="helpline-limits")
            if settings.redis_url and settings.redis_url.startswith(("redis://", "rediss://")) else MemoryStorage()
        )
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)
        self.items = {"connect": RateLimitItemPerMinute(settings.connections_per_minute),
                      "conversation": RateLimitItemPerMinute(settings.conversations_per_minute)}
        self.most_open = settings.connections_per_address
        self.open: Counter[str] = Counter()
        self._warned = 0.0

    async def hit(self, what: str, address: str) -> float:
        """Count one ``what`` ("connect" or "conversation") for ``address``: 0.0 when allowed, else the seconds
        until it will be."""
        item = self.items[what]
        try:
            if await self.limiter.hit(item, what, address):
                return 0.0
            stats = await self.limiter.get_window_stats(item, what, address)
        except Exception as exc:  # the storage (Redis) is out: let visitors in rather than shut everyone out
            if time.monotonic() - self._warned > 60:
                self._warned = time.monotonic()
                log.warning("address limits are not enforced: their storage failed (%s)", exc)
            return 0.0
        return max(1.0, stats.reset_time - time.time())

    def take_open(self, address: str) -> bool:
        """Count an open socket of ``address``; False (and nothing counted) when it holds as many as it may."""
        if self.open[address] >= self.most_open:
            return False
        self.open[address] += 1
        return True

    def release_open(self, address: str) -> None:
        """One socket of ``address`` counted by ``take_open`` closed."""
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]

    @contextmanager
    def holding(self, address: str) -> Iterator[bool]:
        """Count an open socket of ``address`` while the block runs; yields False (and counts nothing) when the
        address already holds as many as it may."""
        if not self.take_open(address):
            yield False
            return
        try:
            yield True
        finally:
            self.release_open(address)
