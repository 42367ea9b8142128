"""Staff notifications: the rule-6 text and the login link sent from the profile."""

import pytest

from models.audit import AuditEvent
from services import audit, notifications, outbox
from services.patients import InvalidPhone
from services.portal_access import PortalNotActive
from tests import factories
from tests.mail import link_in

STAFF = audit.Actor('staff', 1, 'Riley Front Desk')


async def test_text_template_is_rule_6_filled_with_the_practice_details(db):
    practice = await factories.make_practice(
        name='Clearview Eye Care', phone='(207) 555-0100', portal_url='https://portal.clearview.example.com'
    )
    assert notifications.text_invitation(practice) == (
        'Message from Clearview Eye Care: Please navigate to https://portal.clearview.example.com to access your '
        'patient portal. Once you enter your email address, you will receive a link to log in. The patient portal '
        'gives you access to view your prescriptions, invoices, and appointments. Reply or call (207) 555-0100 '
        'with questions.'
    )


async def test_text_template_falls_back_to_the_base_url(db):
    practice = await factories.make_practice(portal_url='')
    assert 'Please navigate to http://portal.test to access' in notifications.text_invitation(practice)


async def test_text_needs_a_valid_phone_number(db):
    missing = await factories.make_active_patient(phone='')
    invalid = await factories.make_active_patient(phone='(555) 010-3000')

    with pytest.raises(InvalidPhone, match='no phone number on file'):
        await notifications.send_text_invitation(missing.id, STAFF)
    with pytest.raises(InvalidPhone, match='not a valid phone number'):
        await notifications.send_text_invitation(invalid.id, STAFF)


async def test_text_needs_an_active_portal(db):
    patient = await factories.make_patient(phone='(207) 555-0134')
    with pytest.raises(notifications.TextNeedsActivePortal):
        await notifications.send_text_invitation(patient.id, STAFF)


async def test_login_link_email_is_delivered_at_once_and_reports_the_server_reply(db, smtp_server):
    patient = await factories.make_active_patient()

    message = await notifications.send_login_link_email(patient.id, STAFF)

    assert message.status == 'sent'
    assert '250' in message.server_reply or 'OK' in message.server_reply
    mail = await smtp_server.wait_for(patient.email)
    assert '/login/link/' in link_in(mail)
    assert await AuditEvent.exists(action='portal.invitation_sent', patient_id=patient.id)


async def test_staff_sent_link_is_recorded_as_an_invitation_and_its_link_is_not_kept(db, smtp_server):
    patient = await factories.make_active_patient()

    message = await notifications.send_login_link_email(patient.id, STAFF)

    assert message.purpose == 'invitation'
    assert '/login/link/' not in message.body
    assert message.body == outbox.REDACTED_BODY


async def test_login_link_email_needs_an_active_portal(db):
    patient = await factories.make_patient()
    with pytest.raises(PortalNotActive):
        await notifications.send_login_link_email(patient.id, STAFF)


async def test_login_link_email_stays_queued_with_the_error_when_the_mail_server_is_down(db, smtp_server):
    patient = await factories.make_active_patient()
    smtp_server.stop()

    message = await notifications.send_login_link_email(patient.id, STAFF)

    assert (message.status, message.attempts) == ('queued', 1)
    assert message.last_error
