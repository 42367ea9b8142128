"""Texts through Twilio's library against a local server that answers like Twilio's Messages API."""

import base64

import pytest

from models.audit import AuditEvent
from models.outbox import OutboxMessage
from models.patient import Patient
from services import audit, notifications, outbox, transports
from services.patients import PatientInput, update_patient
from tests import factories
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

STAFF = audit.Actor('staff', 1, 'Riley Front Desk')


async def test_the_invitation_is_texted_through_twilio_with_the_account_credentials(sms):
    patient = await factories.make_active_patient(phone='207.555.0134')

    message = await notifications.send_text_invitation(patient.id, STAFF)

    assert (message.channel, message.to_address, message.status, message.attempts) == ('sms', '+12075550134', 'sent', 1)
    assert message.server_reply.startswith('Accepted by Twilio as SM')
    assert message.sent_by == 'Riley Front Desk'
    [text] = sms.received
    assert (text['To'], text['From']) == ('+12075550134', FROM_NUMBER)
    assert text['Body'] == notifications.text_invitation(patient.practice)
    assert sms.auth_headers == ['Basic ' + base64.b64encode(f'{ACCOUNT_SID}:{AUTH_TOKEN}'.encode()).decode()]
    assert await AuditEvent.exists(action='portal.text_sent', patient_id=patient.id)


async def test_a_patient_who_replied_stop_is_marked_not_reachable_by_text(sms):
    patient = await factories.make_active_patient(phone='(207) 555-0134')
    sms.stopped.add('+12075550134')

    message = await notifications.send_text_invitation(patient.id, STAFF)

    assert (message.status, message.permanent_failure, message.next_attempt_at) == ('failed', True, None)
    assert 'Twilio error 21610' in message.last_error
    patient = await Patient.get(id=patient.id)
    assert patient.text_blocked_reason == transports.STOP_REASON and patient.text_blocked_at
    with pytest.raises(notifications.NotReachableByText, match='replied STOP'):
        await notifications.send_text_invitation(patient.id, STAFF)
    assert await OutboxMessage.filter(channel='sms').count() == 1


async def test_a_new_phone_number_clears_the_stop_mark(sms):
    patient = await factories.make_active_patient(phone='(207) 555-0134')
    sms.stopped.add('+12075550134')
    await notifications.send_text_invitation(patient.id, STAFF)

    form = PatientInput(
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth.isoformat(),
        email=patient.email,
        phone='(207) 555-0177',
    )
    await update_patient(patient.id, form, STAFF)

    assert (await Patient.get(id=patient.id)).text_blocked_reason == ''
    assert (await notifications.send_text_invitation(patient.id, STAFF)).status == 'sent'


async def test_a_twilio_outage_leaves_the_text_queued_for_a_retry(sms):
    patient = await factories.make_active_patient(phone='(207) 555-0134')
    sms.outage = 503

    message = await notifications.send_text_invitation(patient.id, STAFF)

    assert (message.status, message.attempts, message.permanent_failure) == ('queued', 1, False)
    assert message.next_attempt_at is not None and 'Twilio error' in message.last_error
    sms.outage = 0
    await OutboxMessage.filter(id=message.id).update(next_attempt_at=outbox.now())
    assert await outbox.retry_due() == 1
    assert len(sms.received) == 1


async def test_without_a_provider_the_text_can_only_be_copied_and_says_so(db):
    patient = await factories.make_active_patient(phone='(207) 555-0134')
    assert not notifications.can_send_texts()

    with pytest.raises(notifications.NoSmsProvider, match='Copy the text'):
        await notifications.send_text_invitation(patient.id, STAFF)
    message = await notifications.record_copied_text_invitation(patient.id, STAFF)

    assert (message.status, message.sent_at, message.attempts) == ('copied', None, 0)
    assert message.server_reply == outbox.COPIED_REPLY and 'did not send' in message.server_reply
    assert await outbox.retry_due() == 0
    assert (await OutboxMessage.get(id=message.id)).status == 'copied'
    assert await AuditEvent.exists(action='portal.text_copied', patient_id=patient.id)
