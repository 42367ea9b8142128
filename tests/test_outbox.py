"""The outbox: every message is a row first, nothing is lost when the mail server is down, nothing is sent twice."""

import asyncio
from datetime import UTC, datetime, timedelta

from models.outbox import OutboxMessage
from services import outbox
from tests import factories
from tests.mail import SmtpServer, body


async def _queued_email(to: str = 'jamie@example.com', **fields: object) -> OutboxMessage:
    defaults = dict(to=to, subject='Hello', body='Your appointment is confirmed.', purpose='notice')
    return await outbox.enqueue_email(**{**defaults, **fields})


async def test_a_queued_email_is_sent_through_the_mail_server(db, smtp_server):
    patient = await factories.make_patient(email='jamie@example.com')
    message = await _queued_email(patient=patient)
    assert message.status == 'queued'

    sent = await outbox.deliver(message.id)

    assert sent.status == 'sent' and sent.attempts == 1 and sent.next_attempt_at is None
    assert sent.sent_at is not None and 'OK' in sent.server_reply
    received = await smtp_server.wait_for('jamie@example.com')
    assert received['Subject'] == 'Hello' and 'appointment is confirmed' in body(received)
    assert [m.id for m in await outbox.messages_for_patient(patient.id)] == [message.id]


async def test_a_message_stays_queued_while_the_mail_server_is_down(db, smtp_server):
    smtp_server.stop()
    message = await _queued_email()

    left = await outbox.deliver(message.id)

    stored = await OutboxMessage.get(id=message.id)
    assert left.status == stored.status == 'queued'
    assert stored.attempts == 1
    assert 'Connect' in stored.last_error or 'refused' in stored.last_error.lower(), stored.last_error
    assert stored.next_attempt_at > datetime.now(UTC)
    assert await outbox.retry_due() == 0  # not due yet: the backoff is respected


async def test_a_queued_message_is_sent_once_the_mail_server_is_back(db, smtp_server):
    smtp_server.stop()
    message = await _queued_email()
    await outbox.deliver(message.id)

    back = SmtpServer()
    back.start()
    try:
        outbox.configure(outbox.SmtpTransport(host='127.0.0.1', port=back.port, mail_from='portal@test'))
        await OutboxMessage.filter(id=message.id).update(next_attempt_at=datetime.now(UTC))

        assert await outbox.retry_due() == 1

        await back.wait_for('jamie@example.com')
        stored = await OutboxMessage.get(id=message.id)
        assert (stored.status, stored.attempts) == ('sent', 2)
        assert stored.last_error  # the history of the failed attempt stays visible to staff
    finally:
        back.stop()


async def test_retries_back_off_and_give_up_after_the_last_attempt(db, smtp_server):
    smtp_server.stop()
    message = await _queued_email()
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS):
        before = datetime.now(UTC)
        left = await outbox.deliver(message.id)
        if left.status == 'queued':
            waits.append(left.next_attempt_at - before)
            await OutboxMessage.filter(id=message.id).update(next_attempt_at=datetime.now(UTC))
    stored = await OutboxMessage.get(id=message.id)
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ('failed', outbox.MAX_ATTEMPTS, None)
    assert waits == sorted(waits) and len(waits) == outbox.MAX_ATTEMPTS - 1
    assert outbox.backoff(1) == timedelta(seconds=30) and outbox.backoff(20) == timedelta(hours=1)


async def test_two_concurrent_deliveries_send_the_message_once(db, smtp_server):
    message = await _queued_email()
    results = await asyncio.gather(outbox.deliver(message.id), outbox.deliver(message.id), outbox.retry_due())
    await smtp_server.wait_for('jamie@example.com')
    await outbox.wait_for_pending()
    assert len(smtp_server.to('jamie@example.com')) == 1
    assert [r.status for r in results[:2] if r is not None] == ['sent']
    assert (await OutboxMessage.get(id=message.id)).attempts == 1


async def test_a_message_held_by_another_worker_is_left_alone(db, smtp_server):
    message = await _queued_email()
    await OutboxMessage.filter(id=message.id).update(
        status='sending', next_attempt_at=datetime.now(UTC) + timedelta(seconds=60)
    )
    assert await outbox.deliver(message.id) is None
    assert await outbox.retry_due() == 0
    assert smtp_server.messages == []


async def test_a_message_abandoned_by_a_crashed_worker_is_sent_by_the_retry_loop(db, smtp_server):
    message = await _queued_email()
    await OutboxMessage.filter(id=message.id).update(
        status='sending', next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert await outbox.retry_due() == 1
    await smtp_server.wait_for('jamie@example.com')
    assert (await OutboxMessage.get(id=message.id)).status == 'sent'


async def test_a_queued_message_can_be_sent_at_once_during_its_backoff(db, smtp_server):
    message = await _queued_email()
    await OutboxMessage.filter(id=message.id).update(next_attempt_at=datetime.now(UTC) + timedelta(minutes=10))
    assert (await outbox.deliver(message.id)).status == 'sent'


async def test_a_sent_message_is_not_sent_again(db, smtp_server):
    message = await _queued_email()
    await outbox.deliver(message.id)
    assert await outbox.deliver(message.id) is None
    assert await outbox.retry_due() == 0
    assert len(smtp_server.to('jamie@example.com')) == 1


async def test_login_link_bodies_are_removed_after_sending(db, smtp_server):
    message = await _queued_email(
        purpose='login_link',
        body='http://portal.test/login/link/secret-token',
        expires_at=datetime.now(UTC) + timedelta(minutes=15),
    )
    await outbox.deliver(message.id)
    stored = await OutboxMessage.get(id=message.id)
    assert stored.status == 'sent' and stored.body == outbox.REDACTED_BODY
    assert 'secret-token' in body(await smtp_server.wait_for('jamie@example.com'))


async def test_an_expired_login_link_is_not_sent_late(db, smtp_server):
    message = await _queued_email(
        purpose='login_link',
        body='http://portal.test/login/link/secret-token',
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert await outbox.retry_due() == 0
    stored = await OutboxMessage.get(id=message.id)
    assert stored.status == 'failed' and 'Expired' in stored.last_error
    assert stored.body == outbox.REDACTED_BODY
    assert smtp_server.messages == []


async def test_deliver_soon_sends_in_the_background(db, smtp_server):
    message = await _queued_email()
    outbox.deliver_soon(message.id)
    await smtp_server.wait_for('jamie@example.com')
    await outbox.wait_for_pending()
    assert (await OutboxMessage.get(id=message.id)).status == 'sent'
