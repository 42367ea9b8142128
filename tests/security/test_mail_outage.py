"""Faults with a real peer: the mail server is down when a patient asks for a login link, and back later.

The outbox's retry loop runs every 30 seconds (`portal.app.OUTBOX_RETRY_SECONDS`); here each pass is one
call of `outbox.retry_due()` with the outbox's clock moved on 30 seconds, so five minutes of outage take
no five minutes of test. The mail server is a real aiosmtpd server, stopped and started on the same port.
"""

from datetime import UTC, datetime, timedelta

import pytest

from models.outbox import OutboxMessage
from portal.app import OUTBOX_RETRY_SECONDS
from services import magic_link, outbox
from tests import factories
from tests.mail import SmtpServer, link_in

PASS = timedelta(seconds=OUTBOX_RETRY_SECONDS)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize('outage_minutes', [1, 3, 5])
async def test_a_login_link_asked_for_while_the_mail_server_is_down_arrives_within_a_minute_of_its_return(
    db, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch, outage_minutes: int
):
    clock = Clock()
    monkeypatch.setattr(outbox, 'now', clock)
    patient = await factories.make_active_patient(email='noor@example.com')
    smtp_server.stop()

    await magic_link.request_login_link('noor@example.com', '203.0.113.7')
    await outbox.wait_for_pending()
    down_until = clock.now + timedelta(minutes=outage_minutes)
    while clock.now < down_until:
        clock.now += PASS
        await outbox.retry_due()
    message = await OutboxMessage.get(patient_id=patient.id, purpose='login_link')
    assert message.status == 'queued' and message.attempts >= 2, 'staff see the failed attempts meanwhile'
    assert message.last_error

    back = SmtpServer(port=smtp_server.port)
    back.start()
    try:
        returned_at, delivered_at = clock.now, None
        for _ in range(4):
            clock.now += PASS
            if await outbox.retry_due():
                delivered_at = clock.now
                break
        assert delivered_at is not None and delivered_at - returned_at <= timedelta(minutes=1)
        link = link_in(await back.wait_for('noor@example.com'))
        await magic_link.check_link(link.rsplit('/', 1)[1])  # still usable: it arrived before it expired
    finally:
        back.stop()


async def test_a_login_link_still_undelivered_when_it_expires_is_given_up_and_says_why(
    db, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
):
    clock = Clock()
    monkeypatch.setattr(outbox, 'now', clock)
    patient = await factories.make_active_patient(email='noor@example.com')
    smtp_server.stop()

    await magic_link.request_login_link('noor@example.com', '203.0.113.7')
    await outbox.wait_for_pending()
    for _ in range(40):  # 20 minutes: longer than the link lives
        clock.now += PASS
        await outbox.retry_due()

    message = await OutboxMessage.get(patient_id=patient.id, purpose='login_link')
    assert message.status == 'failed' and message.next_attempt_at is None
    assert message.attempts > outbox.MAX_ATTEMPTS, 'retried on every pass while the link worked'
