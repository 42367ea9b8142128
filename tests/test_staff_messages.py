"""The profile's messages: texts through Twilio (a local fake), STOP shown to staff, next steps after
enabling, who sent each message, and a shared-email refusal that leads to the other patient."""

import pytest
from nicegui.testing import User

from models.outbox import OutboxMessage
from services import transports
from tests import factories
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.mail import SmtpServer, link_in
from tests.test_staff_console import choose, open_profile, staff_sign_in


@pytest.fixture
def twilio_env(app_env: str, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> FakeTwilio:
    """The app configured with PORTAL_SMS_PROVIDER=twilio, its API pointed at the local fake."""
    monkeypatch.setenv('PORTAL_SMS_PROVIDER', 'twilio')
    monkeypatch.setenv('PORTAL_TWILIO_ACCOUNT_SID', ACCOUNT_SID)
    monkeypatch.setenv('PORTAL_TWILIO_AUTH_TOKEN', AUTH_TOKEN)
    monkeypatch.setenv('PORTAL_TWILIO_FROM', FROM_NUMBER)
    monkeypatch.setenv('PORTAL_TWILIO_API_URL', fake_twilio.url)
    return fake_twilio


async def test_with_twilio_staff_send_the_text_and_see_it_accepted(twilio_env: FakeTwilio, user: User):
    patient = await factories.make_active_patient(phone='207.555.0134')
    await staff_sign_in(user)
    await open_profile(user, patient)

    choose(user, 'Notify by text')
    await user.should_see('the portal does not read them')
    user.find(marker='send-text').click()

    await user.should_see('Accepted by Twilio as SM', retries=100)
    await user.should_see('(207) 555-0134')  # the number shown one way, not as +12075550134
    [text] = twilio_env.received
    assert text['To'] == '+12075550134'
    assert (await OutboxMessage.get(patient_id=patient.id, channel='sms')).status == 'sent'


async def test_a_patient_who_replied_stop_is_shown_as_not_reachable_by_text(twilio_env: FakeTwilio, user: User):
    patient = await factories.make_active_patient(phone='(207) 555-0134')
    twilio_env.stopped.add('+12075550134')
    await staff_sign_in(user)
    await open_profile(user, patient)

    choose(user, 'Notify by text')
    await user.should_see(marker='send-text')
    user.find(marker='send-text').click()

    await user.should_see('Twilio error 21610', retries=100)
    await user.should_see(marker='text-blocked')
    await user.should_see(f'Not reachable by text: {transports.STOP_REASON}')
    choose(user, 'Notify by text')
    await user.should_see('cannot be reached by text', retries=100)
    assert not user.find(marker='send-text').elements.pop().enabled


async def test_after_enabling_staff_are_offered_the_next_steps_and_the_email_is_an_invitation(
    user: User, smtp_server: SmtpServer
):
    patient = await factories.make_patient(first_name='Jamie', email='jamie@example.com', phone='(207) 555-0134')
    await staff_sign_in(user)
    await open_profile(user, patient)

    choose(user, 'Enable Patient Portal')
    await user.should_see(marker='next-steps', retries=100)
    await user.should_see('Copy text for your phone system')
    user.find(marker='next-email').click()

    mail = await smtp_server.wait_for('jamie@example.com')
    assert '/login/link/' in link_in(mail)
    assert 'has set up your patient portal' in mail.get_body(preferencelist=('plain',)).get_content()
    await user.should_see('Email · Portal invitation', retries=100)
    await user.should_see('Riley Front Desk')


async def test_a_shared_email_refusal_links_to_the_other_patients_profile(user: User):
    parent = await factories.make_active_patient(first_name='Dana', last_name='Rivera', email='family@example.com')
    child = await factories.make_patient(first_name='Sam', last_name='Rivera', email='Family@example.com')
    await staff_sign_in(user)
    await open_profile(user, child)

    choose(user, 'Enable Patient Portal')

    await user.should_see('already used by the active portal account of Dana Rivera', retries=100)
    link = user.find(marker='problem-link').elements.pop()
    assert link.props['href'] == f'/staff/patients/{parent.id}'
    assert link.text == "Open Dana Rivera's profile"
