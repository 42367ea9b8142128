"""The patient portal after login: navigation, appointments and requests, the help page, and its guard."""

from datetime import UTC, datetime

from nicegui import ui
from nicegui.testing import User

from models.appointment import AppointmentRequest
from models.audit import AuditEvent
from services import appointments
from services.appointment_requests import (
    MAX_PENDING,
    InvalidAppointmentRequest,
    Preferences,
    TooManyPendingRequests,
    request_appointment,
)
from services.audit import Actor
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in, wait_until

PATIENT = Actor('patient', 1, 'patient', '127.0.0.1')


async def test_anonymous_visitors_are_sent_to_login(user: User):
    for path in ('/', '/prescriptions', '/appointments', '/billing', '/rx/1'):
        response = await user.http_client.get(path)
        assert (response.status_code, response.headers['location']) == (303, '/login'), path


async def test_tabs_greet_the_patient_and_show_the_practice_phone(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient(first_name='Noor')
    await sign_in(user, smtp_server, patient)
    for path, heading in (
        ('/prescriptions', 'Your prescriptions'),
        ('/appointments', 'Upcoming'),
        ('/billing', 'Balance after credits'),
    ):
        await user.open(path)
        await user.should_see(heading)
        await user.should_see('Hello, Noor')
        await user.should_see('Call (555) 010-2000')


async def test_upcoming_appointments_show_in_the_practice_time_zone(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    practice = await patient.practice
    provider = await factories.make_provider(practice)
    location = await factories.make_location(practice, name='Harbor Street office')
    visit = await factories.make_appointment(
        patient, provider=provider, location=location, reason='Contact lens fitting'
    )
    await factories.make_appointment(patient, in_days=-3, reason='Last week visit')
    await factories.make_appointment(patient, status='cancelled', reason='Cancelled visit')
    await sign_in(user, smtp_server, patient)

    await user.open('/appointments')
    await user.should_see('Contact lens fitting')
    await user.should_see('With Dana Whitfield, OD')
    await user.should_see('Harbor Street office')
    await user.should_see(appointments.format_time(visit.starts_at, 'America/New_York'))
    await user.should_see('Past and cancelled appointments')  # the past and the cancelled come below
    await user.should_see('Last week visit')
    await user.should_see('Cancelled visit')


def test_times_are_written_in_the_practice_zone():
    moment = datetime(2025, 1, 15, 14, 30, tzinfo=UTC)
    assert appointments.format_time(moment, 'America/New_York') == '9:30 AM EST'
    assert appointments.format_day(moment, 'America/New_York') == 'Wednesday, January 15, 2025'
    assert appointments.format_time(moment, 'America/Los_Angeles') == '6:30 AM PST'


async def test_appointment_request_needs_a_reason(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)
    await user.open('/appointments')
    user.find('Reason for the visit').type('   ')
    user.find(kind=ui.button, content='Send request').click()
    await user.should_see('Please tell us the reason for your visit.')
    assert await AppointmentRequest.filter(patient_id=patient.id).count() == 0


async def test_appointment_request_is_created_pending_and_listed(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)
    await user.open('/appointments')
    user.find('Reason for the visit').type('Blurry vision when driving at night')
    user.find('Preferred days').elements.pop().value = ['Tue', 'Thu']
    user.find('Preferred times').elements.pop().value = ['Morning']
    user.find(kind=ui.button, content='Send request').click()

    await user.should_see('Waiting for the practice', retries=50)
    await user.should_see('Blurry vision when driving at night')
    await user.should_see('Pending')
    await user.should_see('Preferred: Tue, Thu; morning')
    request = await AppointmentRequest.get(patient_id=patient.id)
    assert (request.status, request.preferred_times) == ('pending', 'Tue, Thu; morning')
    await wait_until(AuditEvent.filter(action='appointment.requested', object_id=request.id).exists)

    await user.open('/appointments')  # still there on the next visit
    await user.should_see('Blurry vision when driving at night')


async def test_appointment_request_rules(db):
    patient = await factories.make_patient()
    for reason in ('', '   ', 'x' * 301):
        try:
            await request_appointment(patient.id, reason, Preferences(), PATIENT)
        except InvalidAppointmentRequest:
            continue
        raise AssertionError(f'{reason!r} was accepted')
    try:
        await request_appointment(patient.id, 'Exam', Preferences(days=('Sun',)), PATIENT)
        raise AssertionError('an unknown day was accepted')
    except InvalidAppointmentRequest as error:
        assert 'choose days and times from the list' in str(error)


async def test_a_patient_cannot_flood_the_front_desk_with_requests(db):
    patient = await factories.make_patient()
    for n in range(MAX_PENDING):
        await request_appointment(patient.id, f'Reason {n}', Preferences(), PATIENT)
    try:
        await request_appointment(patient.id, 'One more', Preferences(), PATIENT)
        raise AssertionError('a fourth pending request was accepted')
    except TooManyPendingRequests as error:
        assert 'please call' in str(error)


async def test_help_page_is_public_and_explains_login_and_whom_to_call(user: User):
    await factories.make_practice(phone='(555) 777-1234')
    await user.open('/help')
    await user.should_see('no password')
    await user.should_see('15 minutes')
    await user.should_see('spam or junk')
    await user.should_see('Prescriptions')
    await user.should_see('(555) 777-1234')


async def test_a_patient_cannot_open_staff_pages(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)
    for path in ('/staff', '/staff/patients'):
        response = await user.http_client.get(path)
        assert response.status_code == 303
        assert response.headers['location'].startswith('/staff/login')
