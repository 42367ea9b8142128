"""Sliding-window rate limits, in memory for one instance or in Redis when several share the load.

A request passes only if every limit has room, and is then counted against all of them. That
check-and-count is one atomic step (no await in memory, one Lua script in Redis), so concurrent
requests, even on several app instances, can never slip past a limit together. A refusal says
which limit is full and how long until it has room, so the person can be told the truth.
"""

import logging
import math
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis import asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class Limit:
    key: str
    max_hits: int
    window_seconds: int


@dataclass(frozen=True)
class Blocked:
    """A refused attempt: the full limit that frees up last, and the seconds until it has room."""

    limit: Limit
    retry_after: float

    @property
    def retry_after_minutes(self) -> int:
        """Whole minutes to wait, rounded up (at least one): what a person is told."""
        return max(1, math.ceil(self.retry_after / 60))

    @property
    def wait_in_words(self) -> str:
        """'1 minute' or '15 minutes': the wait as a refusal says it."""
        minutes = self.retry_after_minutes
        return '1 minute' if minutes == 1 else f'{minutes} minutes'


# The limit a refusal names when the counters cannot be reached: limits fail closed, so no login link goes
# out unthrottled while Redis is away, and the person is told to try again shortly.
UNAVAILABLE = Limit('unavailable', 0, 60)


class Counter(Protocol):
    async def hit(self, limits: list[Limit]) -> Blocked | None: ...
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

    async def hit(self, limits: list[Limit]) -> Blocked | None:
        now = self._clock()
        blocked: Blocked | None = None
        for limit in limits:
            hits = self._live(limit.key, limit.window_seconds, now)
            if len(hits) >= limit.max_hits:
                # Room comes back when the hit that keeps the window full slides out of it.
                wait = hits[len(hits) - limit.max_hits] + limit.window_seconds - now
                if blocked is None or wait > blocked.retry_after:
                    blocked = Blocked(limit, wait)
        if blocked is not None:
            return blocked
        for limit in limits:
            self._hits[limit.key].append(now)
        return None


# KEYS: one sorted set per limit. ARGV: now, a unique member, then max_hits and window per key.
# Returns {} when counted, else {index of the full limit that frees up last (1-based), seconds to wait}
# (the wait as a string: Redis would truncate a Lua number to an integer).
_HIT_SCRIPT = """
local now = tonumber(ARGV[1])
local blocked, longest = 0, -1
for i, key in ipairs(KEYS) do
  local max_hits = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= max_hits then
    local oldest = redis.call('ZRANGE', key, count - max_hits, count - max_hits, 'WITHSCORES')
    local wait = tonumber(oldest[2]) + window - now
    if wait > longest then
      blocked, longest = i, wait
    end
  end
end
if blocked > 0 then
  return {blocked, tostring(longest)}
end
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('EXPIRE', key, math.ceil(window) + 60)
end
return {}
"""


class RedisCounter:
    """One sorted set per key, scored by time: shared by every app instance."""

    def __init__(self, url: str, prefix: str = 'portal:throttle:', clock: Clock = time.time) -> None:
        # Bounded waits: a Redis that stops answering must refuse a request in seconds, not hang it.
        self._redis = aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
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

    async def hit(self, limits: list[Limit]) -> Blocked | None:
        args: list[object] = [repr(self._clock()), secrets.token_hex(8)]
        for limit in limits:
            args += [limit.max_hits, limit.window_seconds]
        result = await self._script(keys=[self.prefix + lim.key for lim in limits], args=args)
        if not result:
            return None
        index, wait = result
        return Blocked(limits[int(index) - 1], float(wait))

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
        return await self.counter.hit(limits) is None

    async def attempt(self, limits: list[Limit]) -> Blocked | None:
        """Count the attempt and return None, or return why it was refused (counted nowhere)."""
        try:
            return await self.counter.hit(limits)
        except (RedisError, OSError) as error:
            log.warning('rate limits unreachable, refusing until they answer: %s', type(error).__name__)
            return Blocked(UNAVAILABLE, UNAVAILABLE.window_seconds)


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
