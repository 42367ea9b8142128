"""Rate limits: in memory for one instance, in Redis (the real server) when several share the load."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis import asyncio as aioredis

from services.throttle import Limit, MemoryCounter, RedisCounter, Throttle

REDIS_URL = 'redis://127.0.0.1:6379'


class FakeClock:
    """Time that moves only when the test says so: no sleeping, no wall-clock assertions."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def redis_counter(clock: FakeClock) -> AsyncIterator[RedisCounter]:
    counter = RedisCounter(REDIS_URL, prefix=f'portal:test:{uuid.uuid4().hex}:', clock=clock)
    yield counter
    await counter.clear()
    await counter.close()


@pytest.fixture(params=['memory', 'redis'])
def make_throttle(request: pytest.FixtureRequest, clock: FakeClock) -> Callable[[], Throttle]:
    if request.param == 'memory':
        return lambda: Throttle(MemoryCounter(clock=clock))
    counter = request.getfixturevalue('redis_counter')
    return lambda: Throttle(counter)


async def test_limit_allows_up_to_its_maximum_then_refuses(make_throttle, clock):
    throttle = make_throttle()
    limits = [Limit('email:a', 5, 15 * 60)]
    assert [await throttle.allow(limits) for _ in range(6)] == [True] * 5 + [False]


async def test_window_slides_so_old_hits_stop_counting(make_throttle, clock):
    throttle = make_throttle()
    limits = [Limit('email:a', 1, 60)]
    assert await throttle.allow(limits)
    clock.advance(59)
    assert not await throttle.allow(limits)
    clock.advance(1.5)
    assert await throttle.allow(limits)


async def test_a_refused_request_is_counted_against_no_limit(make_throttle, clock):
    throttle = make_throttle()
    per_address, per_client = Limit('email:a', 1, 60), Limit('client:1.2.3.4', 10, 15 * 60)
    assert await throttle.allow([per_address, per_client])
    for _ in range(5):
        assert not await throttle.allow([per_address, per_client])
    counter = throttle.counter
    assert await counter.count('client:1.2.3.4', 15 * 60) == 1


async def test_a_refusal_says_how_long_until_the_limit_has_room(make_throttle, clock):
    throttle = make_throttle()
    limits = [Limit('email:a', 2, 15 * 60)]
    assert await throttle.attempt(limits) is None
    clock.advance(100)
    assert await throttle.attempt(limits) is None
    clock.advance(200)
    blocked = await throttle.attempt(limits)
    assert blocked is not None
    assert blocked.limit == limits[0]
    assert blocked.retry_after == pytest.approx(15 * 60 - 300)  # the first hit leaves the window then
    assert blocked.retry_after_minutes == 10
    clock.advance(blocked.retry_after + 0.5)
    assert await throttle.attempt(limits) is None


async def test_a_refusal_names_the_full_limit_that_frees_up_last(make_throttle, clock):
    throttle = make_throttle()
    minute, quarter = Limit('email:a', 1, 60), Limit('email:a:15m', 2, 15 * 60)
    assert await throttle.attempt([minute, quarter]) is None
    blocked = await throttle.attempt([minute, quarter])
    assert blocked is not None and blocked.limit == minute
    assert blocked.retry_after == pytest.approx(60)
    clock.advance(61)
    assert await throttle.attempt([minute, quarter]) is None
    blocked = await throttle.attempt([minute, quarter])
    assert blocked is not None and blocked.limit == quarter  # both are full; the 15-minute one decides
    assert blocked.retry_after == pytest.approx(15 * 60 - 61)


async def test_keys_are_counted_separately(make_throttle, clock):
    throttle = make_throttle()
    assert await throttle.allow([Limit('email:a', 1, 60)])
    assert await throttle.allow([Limit('email:b', 1, 60)])
    assert not await throttle.allow([Limit('email:a', 1, 60)])


async def test_concurrent_requests_cannot_slip_past_a_limit_together(make_throttle, clock):
    throttle = make_throttle()
    limits = [Limit('client:5.6.7.8', 10, 15 * 60)]
    results = await asyncio.gather(*(throttle.allow(limits) for _ in range(30)))
    assert results.count(True) == 10


async def test_two_app_instances_share_one_redis_limit(clock):
    prefix = f'portal:test:{uuid.uuid4().hex}:'
    first, second = RedisCounter(REDIS_URL, prefix, clock), RedisCounter(REDIS_URL, prefix, clock)
    try:
        limits = [Limit('email:a', 5, 15 * 60)]
        results = await asyncio.gather(
            *(Throttle(first).allow(limits) for _ in range(6)), *(Throttle(second).allow(limits) for _ in range(6))
        )
        assert results.count(True) == 5
    finally:
        await first.clear()
        await first.close()
        await second.close()


async def test_redis_keys_expire_after_their_window(redis_counter, clock):
    await Throttle(redis_counter).allow([Limit('email:a', 1, 60)])
    redis = aioredis.from_url(REDIS_URL)
    try:
        ttl = await redis.ttl(redis_counter.prefix + 'email:a')
        assert 0 < ttl <= 120
    finally:
        await redis.aclose()
