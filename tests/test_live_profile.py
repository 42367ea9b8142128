"""An open Patient Profile follows its patient: background deliveries and logins show up without a click,
and a closed page stops listening."""

from datetime import UTC, datetime

import pytest
from nicegui import app, ui
from nicegui.testing import User

from models.outbox import OutboxMessage
from services import events, magic_link, outbox
from tests import factories
from tests.mail import SmtpServer, link_in
from tests.portal_user import wait_until
from tests.test_staff_console import choose, open_profile, staff_sign_in


async def test_a_link_queued_while_the_mail_server_was_down_shows_as_sent_when_a_retry_delivers_it(
    user: User, smtp_server: SmtpServer
):
    patient = await factories.make_active_patient(email='jamie.rivera@example.com')
    await staff_sign_in(user)
    smtp_server.stop()
    await open_profile(user, patient)
    choose(user, 'Send login link by email')
    await user.should_see('did not accept the invitation', retries=100)
    await user.should_see(kind=ui.badge, content='Queued')

    back = SmtpServer()
    back.start()
    try:
        outbox.configure(outbox.SmtpTransport(host='127.0.0.1', port=back.port, mail_from='portal@example.com'))
        await OutboxMessage.filter(patient_id=patient.id).update(next_attempt_at=datetime.now(UTC))  # due now
        assert await outbox.retry_due() == 1

        await user.should_see(kind=ui.badge, content='Sent', retries=100)
        await user.should_see('Accepted')
        await user.should_not_see(kind=ui.badge, content='Queued')
    finally:
        back.stop()


async def test_the_profile_shows_the_patient_s_login_as_it_happens(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient(email='jamie.rivera@example.com')
    await staff_sign_in(user)
    await open_profile(user, patient)
    await user.should_see('never')

    await magic_link.request_login_link(patient.email, '127.0.0.1')
    link = link_in(await smtp_server.wait_for(patient.email))
    await magic_link.sign_in_with_link(link.rsplit('/', 1)[-1], '127.0.0.1')

    await user.should_not_see('never', retries=100)


async def test_profiles_stop_listening_once_their_browser_is_gone(user: User, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(app.config, 'reconnect_timeout', 0.1)  # how long NiceGUI waits for a reconnect
    patient = await factories.make_patient()
    await staff_sign_in(user)
    bus = events.current()
    before = bus.subscriber_count()  # the page open after sign-in follows its staff session
    clients = [await user.open(f'/staff/patients/{patient.id}') for _ in range(5)]
    assert bus.subscriber_count(patient.id) == 5
    # each profile also follows the staff member's session, and its header the counts it shows (open
    # requests, verification requests): the same number of subscriptions per page, whatever they are
    per_page, uneven = divmod(bus.subscriber_count() - before, 5)
    assert per_page >= 2 and uneven == 0

    for client in clients:
        for socket_id in list(client._socket_to_document_id):  # the simulated browser's connection drops
            client.handle_disconnect(socket_id)

    async def released() -> bool:
        return bus.subscriber_count(patient.id) == 0 and bus.subscriber_count() == before

    await wait_until(released)
