"""The Requests inbox: the header counts open requests; staff schedule one (warned about overlaps) or
decline it with a reply, and the patient is emailed either way."""

import sys
from datetime import UTC, date, datetime, time, timedelta

import pytest
from nicegui import ui
from nicegui.testing import User

from models.appointment import Appointment, AppointmentRequest, VisitType
from services import appointment_requests, appointments, events
from services.appointment_requests import Preferences
from services.audit import Actor
from tests import factories
from tests.mail import SmtpServer, body
from tests.portal_user import wait_until
from tests.test_staff_console import staff_sign_in

PATIENT = Actor('patient', 1, 'patient', '127.0.0.1')


async def _practice():
    practice = await factories.make_practice()
    provider = await factories.make_provider(practice)
    north = await factories.make_location(practice, name='North office', address='1 North Road, Portland, ME')
    south = await factories.make_location(practice, name='South office', address='9 South Road, Portland, ME')
    return practice, provider, north, south


async def test_the_inbox_lists_open_requests_oldest_first_filters_by_location_and_the_header_counts_them(
    user: User,
):
    _, _, north, south = await _practice()
    older = await factories.make_patient(first_name='Olive', last_name='Older')
    newer = await factories.make_patient(first_name='Nico', last_name='Newer')
    first = await factories.make_appointment_request(
        older, reason='Eyes itch all day', location=north, visit_type=VisitType.FOLLOW_UP
    )
    await AppointmentRequest.filter(id=first.id).update(created_at=datetime.now(UTC) - timedelta(days=2))
    await factories.make_appointment_request(newer, reason='New glasses scratch', location=south)
    await staff_sign_in(user)

    await user.open('/staff/requests')
    await user.should_see('2 open requests')
    assert user.find(marker='open-requests').elements.pop().text == '2'
    cards = sorted(  # drawn in order, so element ids follow the list
        (c for c in user.find(kind=ui.card).elements if any(m.startswith('request-') for m in c._markers)),
        key=lambda c: c.id,
    )
    assert cards[0]._markers == [f'request-{first.id}']  # oldest first
    await user.should_see('Eyes itch all day')
    await user.should_see('waiting 2 days')
    await user.should_see('Follow-up · Preferred: Weekday mornings · Location: North office')
    user.find(kind=ui.link, content='Olive Older')  # the patient's name leads to their profile

    user.find(marker='location-filter').elements.pop().value = south.id
    await user.should_see('1 open request')
    await user.should_not_see('Eyes itch all day')
    await user.should_see('New glasses scratch')

    await appointment_requests.request_appointment(newer.id, 'Another thing', Preferences(), PATIENT)

    async def counted_three() -> bool:
        return user.find(marker='open-requests').elements.pop().text == '3'

    await wait_until(counted_three)  # the header follows new requests without a reload


async def test_staff_schedule_a_request_from_its_preferences_confirming_an_overlap(user: User, smtp_server: SmtpServer):
    practice, provider, north, _ = await _practice()
    patient = await factories.make_patient(first_name='Sam', last_name='Sanders')
    request = await appointment_requests.request_appointment(
        patient.id,
        'Contact lenses feel dry',
        Preferences(days=('Tue',), times=('Afternoon',)),
        PATIENT,
        visit_type=VisitType.CONTACT_LENS_FITTING,
        location_id=north.id,
    )
    suggested = appointment_requests.suggested_slot(request, appointments.today_in(practice.time_zone))
    assert (suggested['day'].weekday(), suggested['start'], suggested['duration_minutes']) == (1, time(14, 0), 45)
    other = await factories.make_patient(first_name='Busy', last_name='Beforehand')
    await appointments.book(
        other.id,
        appointments.Slot(provider.id, north.id, suggested['day'], time(14, 15), 30, VisitType.FOLLOW_UP),
        PATIENT,
    )
    await staff_sign_in(user)
    await user.open('/staff/requests')
    user.find(kind=ui.button, content='Schedule').click()
    await user.should_see('Schedule the request from Sam Sanders')
    await user.should_see('Preferred: Tue; afternoon')
    assert user.find(kind=ui.input, content='Time').elements.pop().value == '14:00'
    assert user.find(kind=ui.select, content='Visit type').elements.pop().value == 'contact_lens_fitting'
    await user.should_see('Overlaps: Dana Whitfield, OD already has Busy Beforehand 2:15 PM–2:45 PM.')

    user.find(marker='appointment-save').click()
    await user.should_see('Tick the box below to book it anyway')
    assert await Appointment.filter(patient_id=patient.id).count() == 0
    user.find(marker='confirm-overlap').click()
    user.find(marker='appointment-save').click()

    async def scheduled() -> bool:
        return (await AppointmentRequest.get(id=request.id)).status == 'scheduled'

    await wait_until(scheduled)
    stored = await AppointmentRequest.get(id=request.id).prefetch_related('appointment')
    visit = stored.appointment
    assert (visit.duration_minutes, visit.visit_type, visit.location_id) == (45, 'contact_lens_fitting', north.id)
    local = appointments.local_time(visit.starts_at, practice.time_zone)
    assert (local.date(), local.time()) == (suggested['day'], time(14, 0))
    await user.should_see('0 open requests')
    mail = await smtp_server.wait_for(patient.email)
    assert 'has been scheduled' in body(mail) and 'North office' in body(mail)


async def test_staff_decline_a_request_with_a_reply_the_patient_is_emailed(user: User, smtp_server: SmtpServer):
    await _practice()
    patient = await factories.make_patient(first_name='Dee', last_name='Clined')
    request = await appointment_requests.request_appointment(
        patient.id, 'Laser surgery consult', Preferences(), PATIENT
    )
    await staff_sign_in(user)
    await user.open('/staff/requests')
    user.find(kind=ui.button, content='Decline').click()
    await user.should_see('Decline the request from Dee Clined')
    user.find(marker='decline-save').click()
    await user.should_see('Please write a reply for the patient')
    user.find(marker='decline-reply').type('We do not offer laser surgery; Dr. Patel at Bay Eye does.')
    user.find(marker='decline-save').click()

    async def declined() -> bool:
        return (await AppointmentRequest.get(id=request.id)).status == 'declined'

    await wait_until(declined)
    await user.should_see('No requests are waiting')
    mail = await smtp_server.wait_for(patient.email)
    assert 'Dr. Patel at Bay Eye' in body(mail)


def test_a_requests_age_reads_in_words():
    from pages.staff.requests import age

    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert [age(now - d, now) for d in (timedelta(seconds=5), timedelta(minutes=1), timedelta(hours=5))] == [
        'just now',
        '1 minute',
        '5 hours',
    ]
    assert age(now - timedelta(days=3, hours=2), now) == '3 days'
    assert date(2026, 1, 10) == now.date()


async def test_another_patients_booking_leaves_the_open_requests_and_their_buttons_as_they_are(
    user: User, monkeypatch: pytest.MonkeyPatch
):
    _, _, north, _ = await _practice()
    waiting = await factories.make_patient(first_name='Wren', last_name='Waiting')
    other = await factories.make_patient(first_name='Otto', last_name='Other')
    await factories.make_appointment_request(waiting, reason='Blurry at night', location=north)
    await staff_sign_in(user)
    await user.open('/staff/requests')
    await user.should_see('Blurry at night')
    button = user.find(kind=ui.button, content='Schedule').elements.pop()
    inbox = sys.modules['pages.staff.requests'].RequestsInbox  # the test harness imports pages anew
    loads: list[int] = []
    load = inbox.load

    async def counted(screen: object) -> None:
        await load(screen)
        loads.append(1)

    monkeypatch.setattr(inbox, 'load', counted)
    await events.publish(other.id, events.APPOINTMENTS)  # what booking Otto's visit at another desk announces
    await wait_until(lambda: _true_when(loads))
    assert not button.is_deleted  # no redraw: a click on its way to this button still lands
    user.find(kind=ui.button, content='Schedule').click()
    await user.should_see(marker='request-summary', retries=50)


async def _true_when(loads: list[int]) -> bool:
    return bool(loads)
