"""Change events: a page open on any instance hears that its patient changed, and nothing that publishes
can be broken by a subscriber or by Redis."""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest

from models.outbox import OutboxMessage
from portal.devmail import _free_port
from services import appointment_requests, audit, events, magic_link, outbox, portal_access
from services.events import Event, EventBus
from tests import factories
from tests.mail import SmtpServer, link_in
from tests.portal_user import wait_until

REDIS_URL = 'redis://127.0.0.1:6379'


class Heard:
    """A subscriber that remembers what it heard."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)

    async def got(self, count: int = 1) -> None:
        async def enough() -> bool:
            return len(self.events) >= count

        await wait_until(enough)


@pytest.fixture
async def redis_buses() -> AsyncIterator[tuple[EventBus, EventBus]]:
    """Two app instances' buses on the real Redis, on a channel no other test (or run) uses."""
    channel = f'test:{uuid.uuid4().hex}:events'
    first, second = EventBus(REDIS_URL, channel), EventBus(REDIS_URL, channel)
    await first.start()
    await second.start()
    yield first, second
    await first.close()
    await second.close()


async def test_subscribers_of_a_patient_hear_its_changes_and_no_one_else_s():
    bus = EventBus()
    jamie, alex = Heard(), Heard()
    bus.subscribe(1, jamie)
    bus.subscribe(2, alex)

    await bus.publish(1, events.MESSAGES)

    await jamie.got()
    assert jamie.events == [Event(1, 'messages')]
    assert alex.events == []


async def test_a_failing_or_stuck_subscriber_holds_up_neither_the_publisher_nor_the_others(caplog):
    bus = EventBus()
    stuck = asyncio.Event()

    async def failing(event: Event) -> None:
        raise RuntimeError('page broke')

    async def slow(event: Event) -> None:
        await stuck.wait()

    healthy = Heard()
    for handler in (failing, slow, healthy):
        bus.subscribe(1, handler)

    await asyncio.wait_for(bus.publish(1, events.PORTAL), timeout=1)

    await healthy.got()
    assert 'event subscriber failed' in caplog.text
    stuck.set()


async def test_an_unsubscribed_page_hears_nothing_more():
    bus = EventBus()
    closed, still_open = Heard(), Heard()
    unsubscribe = bus.subscribe(1, closed)
    bus.subscribe(1, still_open)

    unsubscribe()
    await bus.publish(1, events.MESSAGES)

    await still_open.got()
    assert closed.events == []
    assert bus.subscriber_count(1) == 1


async def test_an_event_published_on_one_instance_reaches_pages_on_another_once(redis_buses):
    first, second = redis_buses
    on_first, on_second, marker = Heard(), Heard(), Heard()
    first.subscribe(1, on_first)
    second.subscribe(1, on_second)
    first.subscribe(2, marker)

    await first.publish(1, events.MESSAGES)
    await on_second.got()
    # Redis keeps order on a channel: once the first bus hears the second's next event, it has also
    # heard the echo of its own, and must not have delivered that twice.
    await second.publish(2, events.PORTAL)
    await marker.got()

    assert on_second.events == [Event(1, 'messages')]
    assert on_first.events == [Event(1, 'messages')]


async def test_publishing_survives_an_unreachable_redis(caplog):
    bus = EventBus(f'redis://127.0.0.1:{_free_port()}', f'test:{uuid.uuid4().hex}:events')
    local = Heard()
    bus.subscribe(1, local)
    try:
        with caplog.at_level(logging.WARNING, logger='services.events'):
            await bus.publish(1, events.MESSAGES)
        await local.got()
        assert 'not sent to other instances' in caplog.text
    finally:
        await bus.close()


# -- the services announce their changes, after committing them ---------------------------------------


async def _hear(patient_id: int) -> Heard:
    heard = Heard()
    events.subscribe(patient_id, heard)
    return heard


async def _topics(heard: Heard, *expected: str) -> list[str]:
    async def all_there() -> bool:
        return all(topic in [e.topic for e in heard.events] for topic in expected)

    await wait_until(all_there)
    return [e.topic for e in heard.events]


async def test_enabling_and_disabling_the_portal_announce_the_portal_change(db):
    staff = await factories.make_staff()
    actor = audit.Actor('staff', staff.id, staff.name)
    patient = await factories.make_patient()
    heard = await _hear(patient.id)

    await portal_access.enable_portal(patient.id, staff, actor)
    await _topics(heard, 'portal')
    heard.events.clear()
    await portal_access.disable_portal(patient.id, staff, actor)

    assert await _topics(heard, 'portal') == ['portal']


async def test_each_delivery_attempt_announces_the_message_change_to_its_patient(db, smtp_server: SmtpServer):
    patient = await factories.make_patient(email='jamie@example.com')
    heard = await _hear(patient.id)
    smtp_server.stop()
    message = await outbox.enqueue_email(
        to=patient.email, subject='Hello', body='See you soon.', purpose='notice', patient=patient
    )

    await outbox.deliver(message.id)

    await _topics(heard, 'messages')
    assert (await OutboxMessage.get(id=message.id)).status == 'queued'


async def test_a_login_announces_the_portal_change_so_staff_see_the_last_login(db, smtp_server: SmtpServer):
    patient = await factories.make_active_patient(email='jamie@example.com')
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    link = link_in(await smtp_server.wait_for(patient.email))
    heard = await _hear(patient.id)

    await magic_link.sign_in_with_link(link.rsplit('/', 1)[-1], '127.0.0.1')

    await _topics(heard, 'portal')


async def test_an_appointment_request_announces_the_appointments_change(db):
    patient = await factories.make_active_patient()
    heard = await _hear(patient.id)

    await appointment_requests.request_appointment(
        patient.id, 'Blurry vision', appointment_requests.Preferences(), audit.Actor('patient', patient.id, 'patient')
    )

    await _topics(heard, 'appointments')
