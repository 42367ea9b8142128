"""The staff console as a receptionist uses it: sign in, find the patient, act from the profile's ⋯ menu."""

from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from models.audit import AuditEvent
from models.outbox import OutboxMessage
from models.patient import Patient
from models.portal_account import PortalAccount
from services import outbox
from tests import factories
from tests.mail import SmtpServer, link_in
from tests.portal_user import sign_in as patient_sign_in
from tests.portal_user import staff_sign_in  # imported from here by many tests


async def open_profile(user: User, patient: Patient) -> None:
    await user.open(f'/staff/patients/{patient.id}')
    await user.should_see('Patient portal')


def choose(user: User, item: str) -> None:
    """Open the ⋯ menu and pick an item, as the receptionist does."""
    user.find(marker='patient-actions').click()
    [entry] = [e for e in user.find(kind=ui.menu_item).elements if item in [c.text for c in e.descendants()]]
    UserInteraction(user, {entry}, None).click()


async def portal_active(patient: Patient) -> bool:
    return await PortalAccount.exists(patient_id=patient.id, active_email__not_isnull=True)


# -- access ---------------------------------------------------------------------------------------


async def test_anonymous_visitors_are_sent_to_the_staff_sign_in(user: User):
    patient = await factories.make_patient()
    for path in ('/staff', f'/staff/patients/{patient.id}'):
        response = await user.http_client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers['location'].startswith('/staff/login')
    await user.open(f'/staff/patients/{patient.id}')
    await user.should_see('Staff sign-in')
    await user.should_not_see(patient.last_name)


async def test_a_signed_in_patient_cannot_open_staff_pages(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient(first_name='Jamie', last_name='Rivera')
    await patient_sign_in(user, smtp_server, patient)

    await user.open('/staff')
    await user.should_see('Staff sign-in')
    await user.open(f'/staff/patients/{patient.id}')
    await user.should_see('Staff sign-in')
    await user.should_not_see('Patient portal')


async def test_unknown_patient_shows_not_found(user: User):
    await staff_sign_in(user)
    for path in ('/staff/patients/999999', '/staff/patients/not-a-number'):
        response = await user.http_client.get(path)
        assert response.status_code == 404
        assert 'Patient not found' in response.text


# -- search and new patient -------------------------------------------------------------------------


async def test_staff_find_a_patient_by_name_email_phone_or_birth_date(user: User):
    jamie = await factories.make_patient(
        first_name='Jamie', last_name='Rivera', email='jamie.rivera@example.com', phone='(207) 555-0134'
    )
    await factories.make_patient(first_name='Alex', last_name='Stone', phone='(207) 555-0199')
    await staff_sign_in(user)
    await user.open('/staff')

    for query in ('jamie', 'rivera', 'rivera, jamie', 'Jamie.Rivera@Example.com', '207-555-0134', '04/12/1985'):
        user.find(marker='patient-search').clear().type(query)
        await user.should_see('Rivera, Jamie')
        await user.should_not_see('Stone, Alex') if query != '04/12/1985' else None
    user.find(marker='patient-search').clear().type('nobody here')
    await user.should_see('No patient matches "nobody here"')

    await user.open('/staff?q=rivera')
    await user.should_see('No portal')
    user.find('Rivera, Jamie').click()
    await user.should_see('Demographics')
    await user.should_see(jamie.email)


async def test_staff_add_a_new_patient_with_validation(user: User):
    await factories.make_ready_practice()
    await staff_sign_in(user)
    await user.open('/staff')
    user.find('New patient').click()
    await user.should_see('First name')
    user.find(kind=ui.input, content='First name').type('Morgan')
    user.find(kind=ui.input, content='Last name').type('Lee')
    user.find(kind=ui.input, content='Date of birth').type('13/45/1990')
    user.find(kind=ui.input, content='Mobile phone').type('207 555 0142')
    user.find(marker='save-patient').click()
    await user.should_see('is not a date')

    user.find(kind=ui.input, content='Date of birth').clear().type('07/04/1990')
    user.find(marker='save-patient').click()
    await user.should_see('Lee, Morgan', retries=100)
    await user.should_see('(207) 555-0142')
    patient = await Patient.get(last_name='Lee')
    assert await AuditEvent.exists(action='patient.created', patient_id=patient.id)


# -- the ⋯ menu ---------------------------------------------------------------------------------------


async def test_staff_enable_the_portal_from_the_menu_and_see_it_active(user: User):
    patient = await factories.make_patient(first_name='Jamie', last_name='Rivera')
    await staff_sign_in(user)
    await open_profile(user, patient)
    await user.should_see('Inactive')

    choose(user, 'Enable Patient Portal')

    await user.should_see('Active', retries=100)
    await user.should_see('by Riley Front Desk')
    assert await portal_active(patient)
    assert await AuditEvent.exists(action='portal.enabled', patient_id=patient.id)


async def test_second_patient_sharing_an_email_cannot_be_enabled(user: User):
    staff = await factories.make_staff(name='Riley Front Desk')
    await factories.make_active_patient(staff, first_name='Pat', last_name='Parent', email='family@example.com')
    child = await factories.make_patient(first_name='Kid', last_name='Parent', email='Family@Example.com ')
    await staff_sign_in(user, staff)
    await open_profile(user, child)

    choose(user, 'Enable Patient Portal')

    await user.should_see('already used by the active portal account of Pat Parent', retries=100)
    await user.should_see('Give this patient their own email address')
    assert not await portal_active(child)


async def test_missing_email_tells_staff_to_ask_the_patient_for_one(user: User):
    patient = await factories.make_patient(email='')
    await staff_sign_in(user)
    await open_profile(user, patient)

    choose(user, 'Enable Patient Portal')

    await user.should_see('Ask the patient for an email address', retries=100)
    assert not await portal_active(patient)


async def test_staff_disable_the_portal_after_confirming(user: User):
    patient = await factories.make_active_patient()
    await staff_sign_in(user)
    await open_profile(user, patient)

    choose(user, 'Disable Patient Portal')
    await user.should_see('Disable the patient portal?')
    user.find(marker='confirm-disable').click()

    await user.should_see('Inactive', retries=100)
    await user.should_see('Disabled')
    assert not await portal_active(patient)
    assert await AuditEvent.exists(action='portal.disabled', patient_id=patient.id)


async def test_send_login_link_delivers_a_real_mail_and_shows_the_server_reply(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await staff_sign_in(user)
    await open_profile(user, patient)

    choose(user, 'Send login link by email')

    mail = await smtp_server.wait_for(patient.email)
    assert '/login/link/' in link_in(mail)
    await user.should_see('OK queued as test', retries=100)  # the test server's reply, on the messages panel
    await user.should_see('Email · Portal invitation')
    await user.should_see('Riley Front Desk')  # who sent it, in the Messages table
    assert await AuditEvent.exists(action='portal.invitation_sent', patient_id=patient.id)


async def test_without_an_sms_provider_staff_copy_the_text_and_the_row_says_copied_not_sent(user: User):
    await factories.make_practice(
        name='Clearview Eye Care', phone='(207) 555-0100', portal_url='https://eyes.example.com'
    )
    patient = await factories.make_active_patient(phone='(207) 555-0134')
    await staff_sign_in(user)
    await open_profile(user, patient)

    choose(user, 'Copy text for your phone system')

    await user.should_see(
        'Message from Clearview Eye Care: Please navigate to https://eyes.example.com to access your patient portal.'
    )
    await user.should_see('Reply or call (207) 555-0100 with questions.')
    await user.should_see('the portal does not read them')
    user.find(marker='copy-text').click()

    await user.should_see('Copied, not sent', retries=100)
    await user.should_see(outbox.COPIED_REPLY)
    await user.should_not_see('Accepted')
    message = await OutboxMessage.get(patient_id=patient.id, channel='sms')
    assert (message.status, message.to_address, message.sent_at) == ('copied', '+12075550134', None)
    assert await AuditEvent.exists(action='portal.text_copied', patient_id=patient.id)


async def test_notify_by_text_explains_a_missing_or_invalid_phone(user: User):
    patient = await factories.make_active_patient(phone='(555) 010-3000')
    await staff_sign_in(user)
    await open_profile(user, patient)

    choose(user, 'Copy text for your phone system')

    await user.should_see('is not a valid phone number', retries=100)
    assert not user.find(marker='copy-text').elements.pop().enabled
    assert not await OutboxMessage.exists(patient_id=patient.id, channel='sms')


# -- editing ------------------------------------------------------------------------------------------


async def test_staff_edit_demographics_and_the_edit_is_audited(user: User):
    patient = await factories.make_patient(first_name='Jamie', last_name='Rivera', phone='(207) 555-0134')
    await staff_sign_in(user)
    await open_profile(user, patient)

    user.find(marker='edit-patient').click()
    await user.should_see(marker='save-patient')
    user.find(kind=ui.input, content='Last name').clear().type('Rivera-Lopez')
    user.find(kind=ui.input, content='Mobile phone').clear().type('(207) 555-01')
    user.find(marker='save-patient').click()
    await user.should_see('is not a valid phone number')
    user.find(kind=ui.input, content='Mobile phone').clear().type('+1 207 555 0177')
    user.find(marker='save-patient').click()

    await user.should_see('Rivera-Lopez, Jamie', retries=100)
    await user.should_see('(207) 555-0177')
    event = await AuditEvent.get(action='patient.updated', patient_id=patient.id)
    assert event.detail == {'fields': ['last_name', 'phone']}


async def test_login_email_is_locked_while_the_portal_is_active(user: User):
    patient = await factories.make_active_patient()
    await staff_sign_in(user)
    await open_profile(user, patient)

    user.find(marker='edit-patient').click()

    await user.should_see('Locked while the patient portal is active')
    [email] = user.find(kind=ui.input, content='Email').elements
    assert 'readonly' in email.props


async def test_mail_server_down_leaves_the_link_queued_with_the_error_in_view(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await staff_sign_in(user)
    smtp_server.stop()
    await open_profile(user, patient)

    choose(user, 'Send login link by email')

    await user.should_see('did not accept the invitation', retries=100)
    await user.should_see('retried automatically')
    await user.should_see('Queued')
    await user.should_see('Next try')
