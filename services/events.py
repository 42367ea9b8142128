"""Small change events ("patient 42's messages changed") so open pages refresh without polling.

Services publish after their transaction commits; a page subscribes for its patient and re-reads what it
shows. Events carry no data, only what changed, so a lost event costs freshness, never correctness.

Delivery to subscribers in this process runs each callback in its own task: a slow or failing page
never holds up the business operation that published, nor the other pages. With a Redis URL, events
also travel over Redis pub/sub, so a page open on one app instance hears about a retry sent by another.
Redis trouble is logged and otherwise ignored: publishing never fails the operation that changed data.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from services import after_commit

log = logging.getLogger(__name__)

MESSAGES = 'messages'
PORTAL = 'portal'
APPOINTMENTS = 'appointments'
PRESCRIPTIONS = 'prescriptions'
SESSION = 'session'  # a session ended or an account was switched off: open pages re-check and may leave
ANY_PATIENT = 0  # subscribe with this id to hear every patient's events (the console's inbox and schedule)
BILLING = 'billing'
VERIFICATIONS = 'verifications'  # sellers' verification requests (the desk and its header count)
DEFAULT_CHANNEL = 'portal:events'
REDIS_TIMEOUT_SECONDS = 1.0  # a publisher waits at most this long for an unreachable Redis
START_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Event:
    """About one patient (the usual case) or, with `staff_id`, about one staff account."""

    patient_id: int | None
    topic: str
    staff_id: int | None = None

    @property
    def key(self) -> tuple[str, int]:
        return ('staff', self.staff_id) if self.staff_id is not None else ('patient', self.patient_id or 0)


Handler = Callable[[Event], Awaitable[None]]
Unsubscribe = Callable[[], None]


class EventBus:
    """Subscribers by patient (or staff account), in this process; optionally bridged through Redis."""

    def __init__(self, redis_url: str | None = None, channel: str = DEFAULT_CHANNEL) -> None:
        self.channel = channel
        self.origin = uuid.uuid4().hex  # our own events come back from Redis: skip them, they were delivered
        self._handlers: dict[tuple[str, int], list[Handler]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._listener: asyncio.Task | None = None
        self._listening = asyncio.Event()
        self._redis_url = redis_url
        self._redis = (
            aioredis.from_url(
                redis_url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
            )
            if redis_url
            else None
        )

    def subscribe(self, patient_id: int, handler: Handler) -> Unsubscribe:
        """Call `handler` for every event about this patient until the returned function is called."""
        return self._subscribe(('patient', patient_id), handler)

    def subscribe_staff(self, staff_id: int, handler: Handler) -> Unsubscribe:
        """Call `handler` for every event about this staff account (deactivated, signed out...)."""
        return self._subscribe(('staff', staff_id), handler)

    def _subscribe(self, key: tuple[str, int], handler: Handler) -> Unsubscribe:
        self._handlers.setdefault(key, []).append(handler)

        def unsubscribe() -> None:
            handlers = self._handlers.get(key, [])
            if handler in handlers:
                handlers.remove(handler)
            if not handlers:
                self._handlers.pop(key, None)

        return unsubscribe

    def subscriber_count(self, patient_id: int | None = None) -> int:
        if patient_id is not None:
            return len(self._handlers.get(('patient', patient_id), []))
        return sum(len(handlers) for handlers in self._handlers.values())

    async def publish(self, patient_id: int, topic: str) -> None:
        """Tell this process's subscribers at once, then the other instances. Never raises for Redis."""
        await self._publish(Event(patient_id, topic))

    async def publish_staff(self, staff_id: int, topic: str) -> None:
        await self._publish(Event(None, topic, staff_id))

    async def _publish(self, event: Event) -> None:
        if after_commit.hold(('event', self.origin, event), lambda: self._publish(event)):
            return  # published once the outer transaction has committed
        self._deliver(event)
        if self._redis is None:
            return
        payload = json.dumps(
            {'origin': self.origin, 'patient_id': event.patient_id, 'staff_id': event.staff_id, 'topic': event.topic}
        )
        try:
            await self._redis.publish(self.channel, payload)
        except (RedisError, OSError) as error:
            log.warning('event %s for %s %s not sent to other instances: %s', event.topic, *event.key, error)

    def _deliver(self, event: Event) -> None:
        handlers = self._handlers.get(event.key, [])
        if event.staff_id is None and event.patient_id != ANY_PATIENT:
            handlers = handlers + self._handlers.get(('patient', ANY_PATIENT), [])
        for handler in list(handlers):
            task = asyncio.create_task(self._call(handler, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _call(handler: Handler, event: Event) -> None:
        try:
            await handler(event)
        except Exception:  # one broken page must not stop the others from hearing about the change
            log.exception('event subscriber failed on %s', event)

    async def start(self) -> None:
        """Listen to the other instances (with Redis). Waits briefly for the subscription to be in place,
        so events published after start are heard; if Redis is down, keeps trying in the background."""
        if self._redis_url is None or self._listener is not None:
            return
        self._listener = asyncio.create_task(self._listen())
        try:
            await asyncio.wait_for(self._listening.wait(), START_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning('not yet subscribed to events from other instances; retrying in the background')

    async def _listen(self) -> None:
        # No read timeout here: a quiet channel is normal, not a failure.
        redis = aioredis.from_url(self._redis_url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        delay = 0.5
        try:
            while True:
                try:
                    async with redis.pubsub() as pubsub:
                        await pubsub.subscribe(self.channel)
                        async for message in pubsub.listen():
                            if message['type'] == 'subscribe':
                                self._listening.set()
                                delay = 0.5
                            elif message['type'] == 'message':
                                self._receive(message['data'])
                except (RedisError, OSError) as error:
                    self._listening.clear()
                    log.warning('event subscription to Redis lost (%s); retrying in %s s', error, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
        finally:
            await redis.aclose()

    def _receive(self, data: bytes) -> None:
        try:
            fields = json.loads(data)
            staff_id = fields.get('staff_id')
            patient_id = fields.get('patient_id')
            event = Event(
                None if patient_id is None else int(patient_id),
                str(fields['topic']),
                None if staff_id is None else int(staff_id),
            )
            origin = fields['origin']
        except (ValueError, KeyError, TypeError):
            log.warning('ignored a malformed event on %s', self.channel)
            return
        if origin != self.origin:
            self._deliver(event)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._redis is not None:
            await self._redis.aclose()
        self._handlers.clear()


_bus = EventBus()


def configure(redis_url: str | None, channel: str = DEFAULT_CHANNEL) -> EventBus:
    """Called by the app factory (and tests): one bus per process, bridged through Redis if given."""
    global _bus
    _bus = EventBus(redis_url, channel)
    return _bus


def current() -> EventBus:
    return _bus


async def publish(patient_id: int, topic: str) -> None:
    """Call only after the change is committed, so subscribers that re-read it find it."""
    await _bus.publish(patient_id, topic)


def subscribe(patient_id: int, handler: Handler) -> Unsubscribe:
    return _bus.subscribe(patient_id, handler)


async def publish_staff(staff_id: int, topic: str) -> None:
    """After commit: this staff account changed (deactivated, signed out): its open pages re-check."""
    await _bus.publish_staff(staff_id, topic)


def subscribe_staff(staff_id: int, handler: Handler) -> Unsubscribe:
    return _bus.subscribe_staff(staff_id, handler)
