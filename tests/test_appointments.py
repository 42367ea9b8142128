"""Appointment requests and appointments: the round trip, the pending limit, overlaps, DST, reminders, .ics."""

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar

from models.appointment import Appointment, AppointmentRequest, AppointmentStatus, RequestStatus, VisitType
from models.audit import AuditEvent
from models.outbox import OutboxMessage
from models.patient import Patient
from models.practice import Location, Provider
from services import appointment_requests, appointments, audit, calendar_file, events, outbox, reminders
from services.appointment_requests import (
    MAX_PENDING,
    DuplicateRequest,
    InvalidAppointmentRequest,
    Preferences,
    TooManyPendingRequests,
)
from services.appointments import InvalidAppointment, ProviderBusy, RequestAlreadyHandled, Slot
from services.errors import NotFound
from tests import factories
from tests.mail import SmtpServer, body
from tests.portal_user import wait_until

PATIENT = audit.Actor('patient', 1, 'patient')
ZONE = 'America/New_York'


async def _setup() -> tuple[Patient, Provider, Location, audit.Actor]:
    practice = await factories.make_practice()
    provider = await factories.make_provider(practice)
    location = await factories.make_location(practice, name='Harbor Street office', address='12 Harbor St, Portland')
    patient = await factories.make_patient(practice, email='jamie@example.com', first_name='Jamie')
    staff = await factories.make_staff()
    return patient, provider, location, audit.Actor.staff(staff)


def _slot(provider: Provider, location: Location, day: date, at: time, minutes: int = 60, **kw: object) -> Slot:
    return Slot(provider.id, location.id, day, at, minutes, kw.pop('visit_type', VisitType.EYE_EXAM), **kw)


def _future_day(days: int = 30) -> date:
    return appointments.today_in(ZONE) + timedelta(days=days)


async def _request(patient: Patient, reason: str = 'Blurry vision', **kw: object) -> AppointmentRequest:
    return await appointment_requests.request_appointment(patient.id, reason, Preferences(), PATIENT, **kw)


# --- requests -----------------------------------------------------------------------------------


async def test_a_request_keeps_its_visit_type_and_preferred_location(db):
    patient, _, location, _ = await _setup()
    request = await _request(patient, visit_type=VisitType.CONTACT_LENS_FITTING, location_id=location.id)

    stored = await AppointmentRequest.get(id=request.id)
    assert (stored.visit_type, stored.location_id, stored.status) == (
        VisitType.CONTACT_LENS_FITTING,
        location.id,
        RequestStatus.PENDING,
    )
    assert stored.pending_slot == 1


async def test_the_same_request_twice_is_refused_while_the_first_is_pending(db):
    patient, *_ = await _setup()
    await _request(patient, 'Blurry vision')
    with pytest.raises(DuplicateRequest):
        await _request(patient, '  blurry   VISION ')
    assert await AppointmentRequest.filter(patient_id=patient.id).count() == 1


async def test_an_unknown_visit_type_or_another_practices_location_is_refused(db):
    patient, *_ = await _setup()
    other = await factories.make_location(await factories.make_practice(name='Elsewhere'))
    with pytest.raises(InvalidAppointmentRequest):
        await _request(patient, visit_type='surgery')
    with pytest.raises(InvalidAppointmentRequest):
        await _request(patient, location_id=other.id)


async def test_simultaneous_submissions_never_make_more_than_three_pending(db):
    """The database decides: six requests sent at once (each reads 'none pending' first) leave three."""
    patient, *_ = await _setup()
    results = await asyncio.gather(*(_request(patient, f'Reason number {n}') for n in range(6)), return_exceptions=True)

    created = [r for r in results if isinstance(r, AppointmentRequest)]
    refused = [r for r in results if isinstance(r, TooManyPendingRequests)]
    assert (len(created), len(refused)) == (MAX_PENDING, 6 - MAX_PENDING), results
    slots = await AppointmentRequest.filter(patient_id=patient.id).values_list('pending_slot', flat=True)
    assert sorted(slots) == [1, 2, 3]
    assert not await appointment_requests.can_request(patient.id)
    assert not (await appointment_requests.history_and_room(patient.id, limit=1))[1]  # all three count


async def test_withdrawing_frees_a_slot_and_only_the_owner_can_withdraw(db):
    patient, *_ = await _setup()
    other = await factories.make_patient()
    requests = [await _request(patient, f'Reason {n}') for n in range(MAX_PENDING)]

    with pytest.raises(NotFound):
        await appointment_requests.withdraw(other.id, requests[0].id, PATIENT)
    await appointment_requests.withdraw(patient.id, requests[0].id, PATIENT)

    withdrawn = await AppointmentRequest.get(id=requests[0].id)
    assert (withdrawn.status, withdrawn.pending_slot) == (RequestStatus.WITHDRAWN, None)
    assert await appointment_requests.can_request(patient.id)
    history, room = await appointment_requests.history_and_room(patient.id)
    assert room and [r.id for r in history] == [r.id for r in await appointment_requests.history_for(patient.id)]
    assert [r.status for r in history] == [RequestStatus.PENDING, RequestStatus.PENDING, RequestStatus.WITHDRAWN]
    assert await appointment_requests.history_and_room(other.id) == ([], True)  # none at all: room
    assert (await _request(patient, 'Reason 0')).pending_slot == requests[0].pending_slot
    with pytest.raises(RequestAlreadyHandled):
        await appointment_requests.withdraw(patient.id, requests[0].id, PATIENT)


async def test_the_inbox_lists_pending_requests_oldest_first_and_filters_by_location(db):
    patient, _, location, _ = await _setup()
    second = await factories.make_location(await patient.practice, name='Mall kiosk')
    first = await _request(patient, 'First', location_id=location.id)
    await _request(patient, 'Second', location_id=second.id)
    third = await _request(patient, 'Third', location_id=location.id)

    inbox = await appointment_requests.open_requests(patient.practice_id)
    assert [r.reason for r in inbox] == ['First', 'Second', 'Third']
    filtered = await appointment_requests.open_requests(patient.practice_id, location.id)
    assert [r.id for r in filtered] == [first.id, third.id]
    assert await appointment_requests.open_count() == 3


# --- scheduling and declining ---------------------------------------------------------------------


async def test_scheduling_a_request_books_it_in_utc_links_it_and_emails_the_patient(db, smtp_server: SmtpServer):
    patient, provider, location, staff = await _setup()
    request = await _request(patient, visit_type=VisitType.EYE_EXAM, location_id=location.id)
    heard: list[events.Event] = []

    async def hear(event: events.Event) -> None:
        heard.append(event)

    events.subscribe(patient.id, hear)
    day = _future_day()
    appointment = await appointment_requests.schedule(request.id, _slot(provider, location, day, time(9, 30)), staff)

    stored = await AppointmentRequest.get(id=request.id)
    assert (stored.status, stored.appointment_id, stored.pending_slot) == (
        RequestStatus.SCHEDULED,
        appointment.id,
        None,
    )
    assert stored.handled_by_id == staff.id and stored.handled_at is not None
    booked = await Appointment.get(id=appointment.id)
    assert booked.status == AppointmentStatus.BOOKED
    local = appointments.local_time(booked.starts_at, ZONE)
    assert (local.date(), local.time()) == (day, time(9, 30))
    assert booked.starts_at.utcoffset() == timedelta(0)
    mail = await smtp_server.wait_for('jamie@example.com')
    text = body(mail)
    assert appointments.format_day(booked.starts_at, ZONE) in text and '9:30 AM' in text
    assert 'Harbor Street office' in text and 'Dana Whitfield, OD' in text and '(555) 010-2000' in text
    await wait_until(lambda: _async(any(e.topic == events.APPOINTMENTS for e in heard)))
    assert await AuditEvent.exists(action='appointment.booked', object_id=appointment.id, actor_type='staff')


async def _async(value: bool) -> bool:
    return value


async def test_a_request_withdrawn_meanwhile_cannot_be_scheduled(db):
    patient, provider, location, staff = await _setup()
    request = await _request(patient)
    await appointment_requests.withdraw(patient.id, request.id, PATIENT)

    with pytest.raises(RequestAlreadyHandled):
        await appointment_requests.schedule(request.id, _slot(provider, location, _future_day(), time(9)), staff)
    assert not await Appointment.exists(patient_id=patient.id)


async def test_declining_needs_a_reply_which_the_patient_reads(db, smtp_server: SmtpServer):
    patient, *_, staff = await _setup()
    request = await _request(patient, 'Second opinion on surgery')
    with pytest.raises(InvalidAppointmentRequest):
        await appointment_requests.decline(request.id, '   ', staff)

    await appointment_requests.decline(request.id, 'We do not offer surgical consults; please see Dr. Lee.', staff)

    stored = await AppointmentRequest.get(id=request.id)
    assert (stored.status, stored.pending_slot) == (RequestStatus.DECLINED, None)
    assert stored.reply == 'We do not offer surgical consults; please see Dr. Lee.'
    mail = await smtp_server.wait_for('jamie@example.com')
    assert 'please see Dr. Lee' in body(mail) and 'Second opinion on surgery' in body(mail)
    with pytest.raises(RequestAlreadyHandled):
        await appointment_requests.decline(request.id, 'Again', staff)


# --- overlaps -------------------------------------------------------------------------------------


async def test_a_clash_with_the_providers_other_visit_is_a_warning_staff_can_override(db):
    patient, provider, location, staff = await _setup()
    other_patient = await factories.make_patient(first_name='Avery', last_name='Stone')
    colleague = await factories.make_provider(await patient.practice, name='Sam Ortiz')
    day = _future_day()
    await appointments.book(other_patient.id, _slot(provider, location, day, time(9), 60), staff)

    with pytest.raises(ProviderBusy) as busy:
        await appointments.book(patient.id, _slot(provider, location, day, time(9, 30), 30), staff)
    assert 'Avery Stone 9:00 AM–10:00 AM' in str(busy.value)
    assert 'Dana Whitfield, OD already has' in str(busy.value)

    back_to_back = await appointments.book(patient.id, _slot(provider, location, day, time(10), 30), staff)
    other_provider = await appointments.book(patient.id, _slot(colleague, location, day, time(9, 30), 30), staff)
    forced = await appointments.book(
        patient.id, _slot(provider, location, day, time(9, 30), 30), staff, confirm_overlap=True
    )
    assert all(a.status == AppointmentStatus.BOOKED for a in (back_to_back, other_provider, forced))


async def test_a_cancelled_visit_frees_its_time_and_a_reschedule_does_not_clash_with_itself(db):
    patient, provider, location, staff = await _setup()
    day = _future_day()
    first = await appointments.book(patient.id, _slot(provider, location, day, time(9)), staff)

    moved = await appointments.reschedule(first.id, _slot(provider, location, day, time(9, 30)), staff)
    assert appointments.local_time(moved.starts_at, ZONE).time() == time(9, 30)

    await appointments.cancel(first.id, 'Patient is unwell', staff)
    again = await appointments.book(patient.id, _slot(provider, location, day, time(9, 30)), staff)
    assert again.id != first.id
    cancelled = await Appointment.get(id=first.id)
    assert (cancelled.status, cancelled.cancel_reason) == (AppointmentStatus.CANCELLED, 'Patient is unwell')


async def test_cancelling_needs_a_reason_and_only_a_booked_visit_can_change(db):
    patient, provider, location, staff = await _setup()
    visit = await appointments.book(patient.id, _slot(provider, location, _future_day(), time(9)), staff)
    with pytest.raises(InvalidAppointment):
        await appointments.cancel(visit.id, ' ', staff)
    await appointments.cancel(visit.id, 'Provider ill', staff)
    with pytest.raises(appointments.AppointmentNotBooked):
        await appointments.reschedule(visit.id, _slot(provider, location, _future_day(), time(11)), staff)


# --- time zones and DST ---------------------------------------------------------------------------


async def test_scheduling_across_a_dst_change_keeps_the_local_time_and_moves_utc(db):
    """New York springs forward on March 14, 2027: 9:00 AM is 14:00 UTC before it and 13:00 UTC after."""
    patient, provider, location, staff = await _setup()
    before = await appointments.book(patient.id, _slot(provider, location, date(2027, 3, 12), time(9)), staff)
    after = await appointments.book(patient.id, _slot(provider, location, date(2027, 3, 15), time(9)), staff)

    assert before.starts_at == datetime(2027, 3, 12, 14, 0, tzinfo=UTC)
    assert after.starts_at == datetime(2027, 3, 15, 13, 0, tzinfo=UTC)
    assert appointments.format_time(before.starts_at, ZONE) == '9:00 AM EST'
    assert appointments.format_time(after.starts_at, ZONE) == '9:00 AM EDT'

    moved = await appointments.reschedule(before.id, _slot(provider, location, date(2027, 3, 16), time(9)), staff)
    assert moved.starts_at == datetime(2027, 3, 16, 13, 0, tzinfo=UTC)

    week = await appointments.schedule_grid(await patient.practice, location.id, date(2027, 3, 13), days=7)
    assert [a.id for a in week.cell(provider.id, date(2027, 3, 15))] == [after.id]
    assert [a.id for a in week.cell(provider.id, date(2027, 3, 16))] == [moved.id]


async def test_a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_first(db):
    patient, provider, location, staff = await _setup()
    with pytest.raises(InvalidAppointment, match='clocks change'):
        await appointments.book(patient.id, _slot(provider, location, date(2027, 3, 14), time(2, 30)), staff)
    early = await appointments.book(patient.id, _slot(provider, location, date(2027, 11, 7), time(1, 30)), staff)
    assert early.starts_at == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 1:30 EDT, before the clocks fall back


# --- reminders ----------------------------------------------------------------------------------


async def _visit_in(patient: Patient, provider: Provider, location: Location, hours: int) -> Appointment:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours)
    return await Appointment.create(
        patient=patient, provider=provider, location=location, starts_at=starts, visit_type=VisitType.EYE_EXAM
    )


async def _reminders(patient: Patient) -> list[OutboxMessage]:
    return await OutboxMessage.filter(patient_id=patient.id, purpose=reminders.PURPOSE).order_by('id')


async def test_a_reminder_is_sent_once_within_the_practices_lead_time(db, smtp_server: SmtpServer):
    patient, provider, location, _ = await _setup()
    soon = await _visit_in(patient, provider, location, 24)
    await _visit_in(patient, provider, location, 24 * 5)  # outside the 48-hour lead

    assert await reminders.send_due() == 1
    assert await reminders.send_due() == 0  # the next pass (or a restarted server) finds it claimed

    [message] = await _reminders(patient)
    assert message.status == 'sent'
    mail = await smtp_server.wait_for('jamie@example.com')
    assert mail['Subject'].startswith('Reminder') and '(555) 010-2000' in body(mail)
    assert (await Appointment.get(id=soon.id)).reminder_for == soon.starts_at


async def test_two_runners_at_once_queue_one_reminder(db):
    patient, provider, location, _ = await _setup()
    await _visit_in(patient, provider, location, 20)

    queued = await asyncio.gather(reminders.queue_due(), reminders.queue_due(), reminders.queue_due())

    assert sum(len(ids) for ids in queued) == 1
    assert len(await _reminders(patient)) == 1


async def test_a_rescheduled_visit_gets_a_new_reminder_and_the_queued_one_is_withdrawn(db):
    patient, provider, location, staff = await _setup()
    visit = await _visit_in(patient, provider, location, 30)
    [first_id] = await reminders.queue_due()

    far = _future_day(20)
    await appointments.reschedule(visit.id, _slot(provider, location, far, time(10)), staff)
    assert (await OutboxMessage.get(id=first_id)).status == appointments.WITHDRAWN
    assert await outbox.retry_due() == 0 or (await OutboxMessage.get(id=first_id)).status == appointments.WITHDRAWN

    moved = await Appointment.get(id=visit.id)
    assert moved.reminder_for is None
    at_new_time = await reminders.queue_due(now=moved.starts_at - timedelta(hours=47))
    assert len(at_new_time) == 1
    assert [m.status for m in await _reminders(patient)] == [appointments.WITHDRAWN, 'queued']


async def test_cancelling_withdraws_a_queued_reminder(db):
    patient, provider, location, staff = await _setup()
    visit = await _visit_in(patient, provider, location, 10)
    [reminder_id] = await reminders.queue_due()

    await appointments.cancel(visit.id, 'Practice closed for weather', staff)

    assert (await OutboxMessage.get(id=reminder_id)).status == appointments.WITHDRAWN
    await outbox.retry_due()
    assert (await OutboxMessage.get(id=reminder_id)).status == appointments.WITHDRAWN
    assert await reminders.queue_due() == []


async def test_a_visit_booked_inside_the_lead_time_gets_its_confirmation_and_no_second_email(db):
    patient, provider, location, staff = await _setup()
    tomorrow = appointments.today_in(ZONE) + timedelta(days=1)
    await appointments.book(patient.id, _slot(provider, location, tomorrow, time(11)), staff)

    assert await reminders.queue_due() == []
    assert [m.purpose for m in await OutboxMessage.filter(patient_id=patient.id)] == ['appointment']


# --- the patient's list and the .ics file --------------------------------------------------------


async def test_the_patient_sees_booked_visits_ahead_and_the_rest_below(db):
    patient, provider, location, staff = await _setup()
    ahead = await appointments.book(patient.id, _slot(provider, location, _future_day(3), time(9)), staff)
    cancelled = await appointments.book(patient.id, _slot(provider, location, _future_day(4), time(9)), staff)
    await appointments.cancel(cancelled.id, 'Clash', staff)
    past = await factories.make_appointment(patient, in_days=-10)

    assert [a.id for a in await appointments.upcoming_for(patient.id)] == [ahead.id]
    assert [a.id for a in await appointments.earlier_for(patient.id)] == [cancelled.id, past.id]
    with pytest.raises(NotFound):
        await appointments.patient_appointment((await factories.make_patient()).id, ahead.id)


async def test_the_tabs_one_statement_reads_what_the_two_lists_read(db):
    patient, provider, location, staff = await _setup()
    later = await appointments.book(patient.id, _slot(provider, location, _future_day(5), time(9)), staff)
    sooner = await appointments.book(patient.id, _slot(provider, location, _future_day(2), time(14)), staff)
    cancelled = await appointments.book(patient.id, _slot(provider, location, _future_day(4), time(9)), staff)
    await appointments.cancel(cancelled.id, 'Clash', staff)
    past = [await factories.make_appointment(patient, in_days=-days) for days in (30, 10, 20)]  # no provider or place
    await factories.make_appointment(await factories.make_patient(), in_days=3)  # someone else's

    upcoming, earlier = await appointments.visits_for(patient.id, limit=3)
    assert [a.id for a in upcoming] == [a.id for a in await appointments.upcoming_for(patient.id)]
    assert [a.id for a in upcoming] == [sooner.id, later.id]
    assert [a.id for a in earlier] == [a.id for a in await appointments.earlier_for(patient.id, limit=3)]
    assert [a.id for a in earlier] == [cancelled.id, past[1].id, past[2].id]  # the newest three
    assert upcoming[0].provider.id == provider.id and upcoming[0].location.name == location.name
    assert earlier[1].provider is None and earlier[1].location is None
    assert upcoming[0].starts_at == sooner.starts_at


async def test_the_ics_file_has_the_utc_start_and_the_location(db):
    patient, provider, location, staff = await _setup()
    visit = await appointments.book(patient.id, _slot(provider, location, date(2027, 7, 1), time(15), 45), staff)
    visit = await appointments.patient_appointment(patient.id, visit.id)

    parsed = Calendar.from_ical(calendar_file.ics_for(visit, visit.patient.practice))

    [event] = parsed.walk('VEVENT')
    assert event.decoded('dtstart') == datetime(2027, 7, 1, 19, 0, tzinfo=UTC)
    assert event.decoded('dtend') == datetime(2027, 7, 1, 19, 45, tzinfo=UTC)
    assert str(event['location']) == 'Harbor Street office, 12 Harbor St, Portland'
    assert str(event['summary']) == 'Eye exam at Clearview Eye Care'
    assert 'Dana Whitfield, OD' in str(event['description'])
    assert calendar_file.file_name(visit, visit.patient.practice) == 'appointment-2027-07-01.ics'
