"""The patient's Appointments tab: upcoming and past visits, Add to calendar, requests with their history,
the warning above the form, the limit of three pending requests, and live changes from the practice."""

from datetime import UTC, date, datetime, time, timedelta

import icalendar
from nicegui import ui
from nicegui.testing import User

from models.appointment import AppointmentRequest, VisitType
from services import appointment_requests, appointments
from services.appointment_requests import Preferences
from services.appointments import Slot
from services.audit import SYSTEM
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in, wait_until


async def _patient_and_practice():
    patient = await factories.make_active_patient(first_name='Noor')
    practice = await patient.practice
    provider = await factories.make_provider(practice)
    harbor = await factories.make_location(practice, name='Harbor office', address='12 Harbor Street, Portland, ME')
    hill = await factories.make_location(practice, name='Hill office', address='3 Hill Road, Portland, ME')
    return patient, practice, provider, harbor, hill


def _html(user: User) -> str:
    return ' '.join(e.content for e in user.find(kind=ui.html).elements)


async def test_upcoming_visits_show_provider_place_map_and_calendar_and_past_ones_below(
    user: User, smtp_server: SmtpServer
):
    patient, practice, provider, harbor, _ = await _patient_and_practice()
    visit = await factories.make_appointment(patient, provider=provider, location=harbor, visit_type='follow_up')
    await factories.make_appointment(patient, in_days=-20, provider=provider, location=harbor, status='completed')
    await factories.make_appointment(patient, in_days=5, status='cancelled', cancel_reason='The provider is away')
    await sign_in(user, smtp_server, patient)
    await user.open('/appointments')
    await user.should_see('Upcoming appointments')
    await user.should_see(appointments.format_day(visit.starts_at, practice.time_zone))
    await user.should_see(appointments.format_time(visit.starts_at, practice.time_zone))
    await user.should_see('With Dana Whitfield, OD')
    await user.should_see('12 Harbor Street, Portland, ME')
    html = _html(user)
    assert f'href="/appointments/{visit.id}.ics" download' in html
    assert 'https://www.google.com/maps/search/?api=1&amp;query=12+Harbor+Street%2C+Portland%2C+ME' in html
    await user.should_see('Past and cancelled appointments')
    await user.should_see('Completed')
    await user.should_see('Cancelled: The provider is away')


async def test_the_calendar_file_carries_the_utc_start_and_place_and_only_for_its_patient(
    user: User, smtp_server: SmtpServer
):
    patient, practice, provider, harbor, _ = await _patient_and_practice()
    await sign_in(user, smtp_server, patient)  # before the booking's email, which would be counted as the link's
    visit = await appointments.book(
        patient.id, Slot(provider.id, harbor.id, date(2027, 3, 15), time(9, 0), 45, VisitType.EYE_EXAM), SYSTEM
    )
    other = await factories.make_patient(first_name='Other')
    theirs = await factories.make_appointment(other, location=harbor)

    response = await user.http_client.get(f'/appointments/{visit.id}.ics')
    assert response.status_code == 200
    assert response.headers['content-type'].startswith('text/calendar')
    assert 'appointment-2027-03-15.ics' in response.headers['content-disposition']
    [event] = icalendar.Calendar.from_ical(response.content).walk('VEVENT')
    assert event.decoded('dtstart') == datetime(2027, 3, 15, 13, 0, tzinfo=UTC)  # 9:00 EDT
    assert event.decoded('dtend') - event.decoded('dtstart') == timedelta(minutes=45)
    assert str(event['location']) == 'Harbor office, 12 Harbor Street, Portland, ME'

    for missing in (theirs.id, theirs.id + 1000):
        response = await user.http_client.get(f'/appointments/{missing}.ics')
        assert response.status_code == 404
    assert (await user.http_client.get(f'/appointments/{theirs.id}.ics')).text == (
        await user.http_client.get(f'/appointments/{theirs.id + 1000}.ics')
    ).text


async def test_the_emergency_warning_comes_before_the_form_which_asks_visit_type_and_location(
    user: User, smtp_server: SmtpServer
):
    patient, _, _, _, hill = await _patient_and_practice()
    await sign_in(user, smtp_server, patient)
    await user.open('/appointments')
    await user.should_see('Sudden vision loss, flashes of light or new floaters, eye pain, or an eye injury')
    urgent = next(e for e in user.find(kind=ui.html).elements if 'data-testid="urgent"' in e.content)
    assert 'href="tel:5550102000"' in urgent.content
    form_field = user.find(kind=ui.textarea, content='Reason for the visit').elements.pop()
    assert urgent.id < form_field.id  # drawn first: above the form

    user.find(kind=ui.select, content='Type of visit').elements.pop().value = 'contact_lens_fitting'
    user.find(kind=ui.select, content='Preferred location').elements.pop().value = hill.id
    user.find(kind=ui.textarea, content='Reason for the visit').type('Trying daily lenses')
    user.find(kind=ui.button, content='Send request').click()
    await wait_until(AppointmentRequest.filter(patient_id=patient.id).exists)
    request = await AppointmentRequest.get(patient_id=patient.id)
    assert (request.visit_type, request.location_id) == ('contact_lens_fitting', hill.id)
    await user.should_see('Location: Hill office')


async def test_with_three_pending_the_tab_says_so_instead_of_the_form_and_withdrawing_brings_it_back(
    user: User, smtp_server: SmtpServer
):
    patient, *_ = await _patient_and_practice()
    requests = [await factories.make_appointment_request(patient, reason=f'Reason {n}') for n in range(3)]
    await sign_in(user, smtp_server, patient)
    await user.open('/appointments')
    await user.should_see('You have 3 requests waiting')
    await user.should_not_see('Send request')
    await user.should_see('Sudden vision loss')  # the warning stays

    # the Withdraw buttons are HTML in the tab's one block; its listener gets the request's id
    user.find(marker='visits').trigger('click', {'action': 'withdraw', 'id': requests[0].id})
    await user.should_see('Withdraw this request?')
    user.find(marker='confirm-withdraw').click()

    async def withdrawn() -> bool:
        return (await AppointmentRequest.get(id=requests[0].id)).status == 'withdrawn'

    await wait_until(withdrawn)
    await user.should_see('You withdrew this request.')
    await user.should_see('Withdrawn')
    await user.should_see('Send request')


async def test_a_withdraw_click_naming_a_request_the_tab_does_not_offer_does_nothing(
    user: User, smtp_server: SmtpServer
):
    patient, *_ = await _patient_and_practice()
    mine = await factories.make_appointment_request(patient, reason='Mine')
    other = await factories.make_active_patient(first_name='Other', email='other@example.org')
    theirs = await factories.make_appointment_request(other, reason='Theirs')
    await sign_in(user, smtp_server, patient)
    await user.open('/appointments')
    await user.should_see('Withdraw this request')

    for forged in ({'action': 'withdraw', 'id': theirs.id}, {'action': 'delete', 'id': mine.id}, {'id': 'x'}, 'x'):
        user.find(marker='visits').trigger('click', forged)
    await user.should_not_see('Withdraw this request?')
    assert [r.status for r in await AppointmentRequest.filter(id__in=[mine.id, theirs.id]).order_by('id')] == [
        'pending',
        'pending',
    ]


async def test_the_open_tab_follows_the_practice_scheduling_declining_and_cancelling(
    user: User, smtp_server: SmtpServer
):
    patient, practice, provider, harbor, _ = await _patient_and_practice()
    await sign_in(user, smtp_server, patient)
    asked = await appointment_requests.request_appointment(patient.id, 'Annual exam', Preferences(), SYSTEM)
    refused = await appointment_requests.request_appointment(patient.id, 'Laser consult', Preferences(), SYSTEM)
    await user.open('/appointments')
    await user.should_see('Annual exam')
    await user.should_see('You have no upcoming appointments.')

    day = appointments.today_in(practice.time_zone) + timedelta(days=10)
    visit = await appointment_requests.schedule(
        asked.id, Slot(provider.id, harbor.id, day, time(10, 0), 60, VisitType.EYE_EXAM), SYSTEM
    )
    await appointment_requests.decline(refused.id, 'We do not do laser surgery; call Bay Eye.', SYSTEM)
    await user.should_see('Scheduled for')
    assert f'href="#appointment-{visit.id}"' in _html(user)
    await user.should_see('We do not do laser surgery; call Bay Eye.')
    await user.should_see('Declined')
    await user.should_not_see('You have no upcoming appointments.')

    await appointments.cancel(visit.id, 'The office is closed that day', SYSTEM)
    await user.should_see('Cancelled: The office is closed that day')
    await user.should_see('You have no upcoming appointments.')
