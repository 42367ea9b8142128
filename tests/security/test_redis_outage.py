"""Faults with a real peer: Redis (the shared rate limits of several instances) cut away and restored.

The app reaches Redis through a TCP proxy the test controls (`tests/tcp_proxy.py`): the Redis server
itself stays up for everyone else. Limits fail closed: while Redis is away no login link goes out
unthrottled, the patient is told to try again shortly, and it works again without a restart.
"""

import pytest

from models.outbox import OutboxMessage
from services import magic_link, outbox, rx_verification, throttle, verification_codes
from tests import factories
from tests.tcp_proxy import TcpProxy

REDIS_PORT = 6379


@pytest.fixture
async def redis_proxy(db) -> TcpProxy:
    proxy = await TcpProxy(REDIS_PORT).start()
    counter = throttle.RedisCounter(f'redis://127.0.0.1:{proxy.port}/0', prefix=f'portal:test:{proxy.port}:')
    previous = throttle.current()
    throttle.use(throttle.Throttle(counter))
    try:
        yield proxy
    finally:
        proxy.restore()
        await counter.clear()
        await counter.close()
        throttle.use(previous)
        await proxy.stop()


async def _links_sent_to(patient_id: int) -> int:
    await outbox.wait_for_pending()
    return await OutboxMessage.filter(patient_id=patient_id, purpose='login_link').count()


async def test_with_redis_cut_login_links_are_refused_with_a_clear_message_and_work_again_after(
    redis_proxy: TcpProxy, smtp_server
):
    patient = await factories.make_active_patient(email='noor@example.com')
    await magic_link.request_login_link('noor@example.com', '203.0.113.7')
    assert await _links_sent_to(patient.id) == 1

    await redis_proxy.cut()
    for _ in range(2):  # the broken connection, then a refused new one
        with pytest.raises(magic_link.TooManyRequests) as refused:
            await magic_link.request_login_link('noor@example.com', '203.0.113.7')
        assert refused.value.kind == 'unavailable'
        assert str(refused.value) == 'Login links cannot be sent at the moment. Please try again in a minute.'
    assert await _links_sent_to(patient.id) == 1, 'nothing went out unthrottled'

    redis_proxy.restore()  # no restart needed (another patient: Noor's one-a-minute limit still holds)
    other = await factories.make_active_patient(email='sam@example.com')
    await magic_link.request_login_link('sam@example.com', '203.0.113.7')
    assert await _links_sent_to(other.id) == 1


async def test_an_unknown_address_gets_the_same_answer_while_redis_is_cut(redis_proxy: TcpProxy):
    await redis_proxy.cut()
    with pytest.raises(magic_link.TooManyRequests) as refused:
        await magic_link.request_login_link('nobody@example.com', '203.0.113.7')
    assert refused.value.kind == 'unavailable'


async def test_with_redis_cut_a_seller_checking_a_code_is_told_it_is_on_our_side(redis_proxy: TcpProxy):
    await factories.make_ready_practice()
    await redis_proxy.cut()
    for _ in range(2):
        with pytest.raises(rx_verification.TooManyLookups) as refused:
            await rx_verification.look_up(verification_codes.new_code(), '203.0.113.8')
        assert refused.value.unavailable
        assert str(refused.value) == 'Prescriptions cannot be checked at the moment. Please try again in a minute.'
    redis_proxy.restore()
    assert await rx_verification.look_up(verification_codes.new_code(), '203.0.113.8') is None
