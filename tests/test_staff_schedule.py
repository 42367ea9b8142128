"""The Schedule and the profile's Appointments section: a day and a week per location, one column per
provider; book, reschedule and cancel with a reason, in the practice's time zone."""

from datetime import UTC, date, datetime, time, timedelta

from nicegui import ui
from nicegui.testing import User

from models.appointment import Appointment, AppointmentRequest, VisitType
from services import appointments
from services.appointments import Slot
from services.audit import SYSTEM
from tests import factories
from tests.mail import SmtpServer, body
from tests.portal_user import wait_until
from tests.test_staff_console import open_profile, staff_sign_in


async def _practice():
    practice = await factories.make_practice()
    dana = await factories.make_provider(practice)
    lee = await factories.make_provider(practice, name='Lee Ortega', licence_number='ME-OD-5000')
    office = await factories.make_location(practice, name='Harbor office')
    return practice, dana, lee, office


def _next_monday() -> date:
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 - today.weekday())


async def test_the_day_and_week_show_each_providers_visits_with_patient_type_and_status(user: User):
    _, dana, lee, office = await _practice()
    monday = _next_monday()
    ana = await factories.make_patient(first_name='Ana', last_name='Alvarez')
    ben = await factories.make_patient(first_name='Ben', last_name='Brooks')
    await appointments.book(ana.id, Slot(dana.id, office.id, monday, time(9, 0), 60, VisitType.EYE_EXAM), SYSTEM)
    late = await appointments.book(
        ben.id, Slot(lee.id, office.id, monday + timedelta(days=2), time(15, 30), 30, VisitType.FOLLOW_UP), SYSTEM
    )
    await appointments.cancel(late.id, 'Patient moved away', SYSTEM)
    await staff_sign_in(user)

    await user.open(f'/staff/schedule?location={office.id}&day={monday.isoformat()}')
    await user.should_see('Times are in America/New York time')
    await user.should_see('Dana Whitfield, OD')
    await user.should_see('Lee Ortega, OD')
    await user.should_see('9:00 AM–10:00 AM')
    await user.should_see('Ana Alvarez')
    await user.should_see('Eye exam')
    await user.should_see('Booked')
    await user.should_not_see('Ben Brooks')  # another day

    user.find(marker='schedule-view').elements.pop().value = 'week'
    await user.should_see('Week of')
    await user.should_see('Ben Brooks')
    await user.should_see('Cancelled')
    await user.should_see('Reason: Patient moved away')
    await user.should_see('Follow-up')

    user.find(marker='schedule-later').click()
    await user.should_not_see('Ana Alvarez')


async def test_staff_book_a_new_appointment_from_the_schedule_in_the_practice_zone(user: User, smtp_server: SmtpServer):
    practice, dana, _, office = await _practice()
    patient = await factories.make_patient(first_name='Cora', last_name='Quinn')
    await staff_sign_in(user)
    day = date(2027, 3, 15)  # the Monday after the clocks spring forward in New York: EDT, UTC-4
    await user.open(f'/staff/schedule?location={office.id}&day={day.isoformat()}')
    user.find(kind=ui.button, content='New appointment').click()
    await user.should_see('find the patient')
    user.find(marker='patient-query').type('quinn')
    await user.should_see('Quinn, Cora · born 04/12/1985')
    user.find(kind=ui.button, content='Quinn, Cora · born 04/12/1985').click()
    await user.should_see('New appointment for Cora Quinn')
    assert user.find(kind=ui.input, content='Date').elements.pop().value == day.isoformat()
    user.find(kind=ui.select, content='Provider').elements.pop().value = dana.id
    user.find(kind=ui.input, content='Time').elements.pop().value = '09:00'
    user.find(kind=ui.button, content='Book').click()

    async def booked() -> bool:
        return await Appointment.exists(patient_id=patient.id)

    await wait_until(booked)
    visit = await Appointment.get(patient_id=patient.id)
    assert visit.starts_at == datetime(2027, 3, 15, 13, 0, tzinfo=UTC)
    assert (visit.location_id, visit.provider_id, visit.duration_minutes) == (office.id, dana.id, 60)
    await user.should_see('Cora Quinn')
    await user.should_see('9:00 AM–10:00 AM')
    assert 'An appointment has been booked for you' in body(await smtp_server.wait_for(patient.email))
    assert practice.time_zone == 'America/New_York'


async def test_staff_reschedule_and_cancel_with_a_reason_from_the_schedule(user: User, smtp_server: SmtpServer):
    practice, dana, _, office = await _practice()
    monday = _next_monday()
    patient = await factories.make_patient(first_name='Rae', last_name='Moves')
    visit = await appointments.book(
        patient.id, Slot(dana.id, office.id, monday, time(10, 0), 30, VisitType.FOLLOW_UP), SYSTEM
    )
    await staff_sign_in(user)
    await user.open(f'/staff/schedule?location={office.id}&day={monday.isoformat()}')
    await user.should_see('10:00 AM–10:30 AM')
    user.find(kind=ui.button, content='Reschedule').click()
    await user.should_see('Reschedule Rae Moves’s appointment')
    assert user.find(kind=ui.input, content='Time').elements.pop().value == '10:00'
    user.find(kind=ui.input, content='Time').elements.pop().value = '11:30'
    user.find(marker='appointment-save').click()

    async def moved() -> bool:
        stored = await Appointment.get(id=visit.id)
        return appointments.local_time(stored.starts_at, practice.time_zone).time() == time(11, 30)

    await wait_until(moved)
    await user.should_see('11:30 AM–12:00 PM')
    assert 'has moved to a new time' in body(await smtp_server.wait_for(patient.email, count=2))

    user.find(kind=ui.button, content='Cancel').click()
    await user.should_see('Cancel Rae Moves’s appointment?')
    user.find(marker='cancel-save').click()
    await user.should_see('Please give a reason for the cancellation.')
    user.find(marker='cancel-reason').type('Provider is ill')
    user.find(marker='cancel-save').click()

    async def cancelled() -> bool:
        return (await Appointment.get(id=visit.id)).status == 'cancelled'

    await wait_until(cancelled)
    await user.should_see('Reason: Provider is ill')
    assert 'Provider is ill' in body(await smtp_server.wait_for(patient.email, count=3))


async def test_the_profile_lists_requests_and_visits_and_acts_on_them(user: User):
    practice, dana, _, office = await _practice()
    patient = await factories.make_patient(first_name='Pat', last_name='Profile')
    request = await factories.make_appointment_request(patient, reason='Follow-up on drops', location=office)
    past = await factories.make_appointment(patient, in_days=-10, provider=dana, location=office)
    upcoming = await appointments.book(
        patient.id, Slot(dana.id, office.id, _next_monday(), time(8, 0), 20, VisitType.GLASSES_PROBLEM), SYSTEM
    )
    await staff_sign_in(user)
    await open_profile(user, patient)
    await user.should_see('Open requests')
    await user.should_see('Follow-up on drops')
    await user.should_see('Glasses or lens problem · 20 min · Dana Whitfield, OD · Harbor office')
    await user.should_see('Past and cancelled')
    await user.should_see(appointments.format_day(past.starts_at, practice.time_zone))
    user.find(marker=f'completed-{past.id}').click()  # the visit took place

    async def completed() -> bool:
        return (await Appointment.get(id=past.id)).status == 'completed'

    await wait_until(completed)
    await user.should_see('Completed')

    user.find(marker=f'profile-appointment-{upcoming.id}')  # the upcoming visit's row, with its actions
    user.find(kind=ui.button, content='Cancel').click()
    await user.should_see('Cancel Pat Profile’s appointment?')
    user.find(marker='cancel-reason').type('Patient asked by phone')
    user.find(marker='cancel-save').click()
    await user.should_see('Cancelled: Patient asked by phone')

    user.find(kind=ui.button, content='Schedule').click()
    await user.should_see('Schedule the request from Pat Profile')
    user.find(marker='appointment-save').click()

    async def scheduled() -> bool:
        return (await AppointmentRequest.get(id=request.id)).status == 'scheduled'

    await wait_until(scheduled)
    await user.should_not_see('Open requests')
