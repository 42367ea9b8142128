"""Sliding-window rate limits, in memory for one instance or in Redis when several share the load."""

import asyncio
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Protocol

from redis import asyncio as aioredis


@dataclass(frozen=True)
class Limit:
    key: str
    max_hits: int
    window_seconds: int


class Counter(Protocol):
    async def count(self, key: str, window_seconds: int) -> int: ...
    async def add(self, key: str, window_seconds: int) -> None: ...


class MemoryCounter:
    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    async def count(self, key: str, window_seconds: int) -> int:
        hits, cutoff = self._hits[key], time.monotonic() - window_seconds
        while hits and hits[0] <= cutoff:
            hits.popleft()
        return len(hits)

    async def add(self, key: str, window_seconds: int) -> None:
        self._hits[key].append(time.monotonic())


class RedisCounter:
    """One sorted set per key, scored by time: shared by every app instance."""

    def __init__(self, url: str, prefix: str = 'portal:throttle:') -> None:
        self._redis = aioredis.from_url(url)
        self._prefix = prefix

    async def count(self, key: str, window_seconds: int) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, 0, time.time() - window_seconds)
            pipe.zcard(name)
            _, count = await pipe.execute()
        return int(count)

    async def add(self, key: str, window_seconds: int) -> None:
        name, stamp = self._prefix + key, time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {f'{stamp:.6f}:{id(pipe)}': stamp})
            pipe.expire(name, window_seconds + 60)
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()


class Throttle:
    """Allows an action only if every limit has room, and then counts it against all of them."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self._lock = asyncio.Lock()

    async def allow(self, limits: list[Limit]) -> bool:
        async with self._lock:
            for limit in limits:
                if await self.counter.count(limit.key, limit.window_seconds) >= limit.max_hits:
                    return False
            for limit in limits:
                await self.counter.add(limit.key, limit.window_seconds)
            return True


_throttle = Throttle(MemoryCounter())


def configure(redis_url: str | None) -> Throttle:
    global _throttle
    _throttle = Throttle(RedisCounter(redis_url) if redis_url else MemoryCounter())
    return _throttle


def current() -> Throttle:
    return _throttle
