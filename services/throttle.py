"""Sliding-window rate limits, in memory for one instance or in Redis when several share the load.

A request passes only if every limit has room, and is then counted against all of them. That
check-and-count is one atomic step (no await in memory, one Lua script in Redis), so concurrent
requests, even on several app instances, can never slip past a limit together.
"""

import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis import asyncio as aioredis

Clock = Callable[[], float]


@dataclass(frozen=True)
class Limit:
    key: str
    max_hits: int
    window_seconds: int


class Counter(Protocol):
    async def hit(self, limits: list[Limit]) -> bool: ...
    async def count(self, key: str, window_seconds: int) -> int: ...


class MemoryCounter:
    """For a single app instance. `clock` is injectable so tests can move time instead of waiting."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._clock = clock

    def _live(self, key: str, window_seconds: int, now: float) -> deque[float]:
        hits, cutoff = self._hits[key], now - window_seconds
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if not hits:
            del self._hits[key]  # keep memory bounded by the addresses seen in the last window
            return deque()
        return hits

    async def count(self, key: str, window_seconds: int) -> int:
        return len(self._live(key, window_seconds, self._clock()))

    async def hit(self, limits: list[Limit]) -> bool:
        now = self._clock()
        if any(len(self._live(lim.key, lim.window_seconds, now)) >= lim.max_hits for lim in limits):
            return False
        for limit in limits:
            self._hits[limit.key].append(now)
        return True


# KEYS: one sorted set per limit. ARGV: now, a unique member, then max_hits and window per key.
_HIT_SCRIPT = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local max_hits = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= max_hits then
    return 0
  end
end
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('EXPIRE', key, math.ceil(window) + 60)
end
return 1
"""


class RedisCounter:
    """One sorted set per key, scored by time: shared by every app instance."""

    def __init__(self, url: str, prefix: str = 'portal:throttle:', clock: Clock = time.time) -> None:
        self._redis = aioredis.from_url(url)
        self.prefix = prefix
        self._clock = clock
        self._script = self._redis.register_script(_HIT_SCRIPT)

    async def count(self, key: str, window_seconds: int) -> int:
        name = self.prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, '-inf', self._clock() - window_seconds)
            pipe.zcard(name)
            _, count = await pipe.execute()
        return int(count)

    async def hit(self, limits: list[Limit]) -> bool:
        args: list[object] = [repr(self._clock()), secrets.token_hex(8)]
        for limit in limits:
            args += [limit.max_hits, limit.window_seconds]
        return bool(await self._script(keys=[self.prefix + lim.key for lim in limits], args=args))

    async def clear(self) -> None:
        """Forget every counter under this prefix (tests, or an operator lifting a block)."""
        async for name in self._redis.scan_iter(match=self.prefix + '*'):
            await self._redis.delete(name)

    async def close(self) -> None:
        await self._redis.aclose()


class Throttle:
    """Allows an action only if every limit has room, and then counts it against all of them."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    async def allow(self, limits: list[Limit]) -> bool:
        return await self.counter.hit(limits)


_throttle = Throttle(MemoryCounter())


def configure(redis_url: str | None) -> Throttle:
    global _throttle
    _throttle = Throttle(RedisCounter(redis_url) if redis_url else MemoryCounter())
    return _throttle


def current() -> Throttle:
    return _throttle


def use(throttle: Throttle) -> Throttle:
    """Install a throttle built by the caller (tests pass one with a controllable clock)."""
    global _throttle
    _throttle = throttle
    return throttle
