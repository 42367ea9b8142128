"""Patients ask for a visit; staff turn the request into an appointment or decline it."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.appointment import Appointment, AppointmentRequest, RequestStatus, VisitType
from models.patient import Patient
from models.practice import Location
from services import appointment_mail, appointments, audit, events, joined, outbox
from services.appointments import RequestAlreadyHandled, Slot
from services.errors import DomainError, NotFound
from services.typed_text import UNSTORABLE_SENTENCE, one_line, paragraphs, unstorable

DAYS = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat')
TIMES = ('Morning', 'Afternoon', 'Evening')
REASON_MAX = 300
PREFERENCES_MAX = 300
NOTE_MAX = 200
MAX_PENDING = 3
REPLY_MAX = 1000


class InvalidAppointmentRequest(DomainError):
    """What is wrong with the form, in words the patient can act on."""


class DuplicateRequest(DomainError):
    def __init__(self) -> None:
        super().__init__(
            'You already sent this request and it is still waiting. The practice will contact you about it.'
        )


class TooManyPendingRequests(DomainError):
    def __init__(self) -> None:
        super().__init__(
            f'You already have {MAX_PENDING} requests waiting. The practice will contact you about them; '
            'please call if it is urgent.'
        )


@dataclass(frozen=True)
class Preferences:
    """When the patient would like to come in: any of `DAYS`, any of `TIMES`, and a free note."""

    days: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    note: str = ''

    def describe(self) -> str:
        days = ', '.join(d for d in DAYS if d in self.days) or 'Any day'
        times = ', '.join(t.lower() for t in TIMES if t in self.times) or 'any time'
        text = f'{days}; {times}'
        return f'{text}; {self.note}' if self.note else text


def _validated(reason: str, preferences: Preferences) -> tuple[str, str]:
    reason = one_line(reason)
    if not reason:
        raise InvalidAppointmentRequest('Please tell us the reason for your visit.')
    if len(reason) > REASON_MAX:
        raise InvalidAppointmentRequest(f'Please keep the reason under {REASON_MAX} characters.')
    unknown = [d for d in preferences.days if d not in DAYS] + [t for t in preferences.times if t not in TIMES]
    if unknown:
        raise InvalidAppointmentRequest('Please choose days and times from the list.')
    note = one_line(preferences.note)
    if len(note) > NOTE_MAX:
        raise InvalidAppointmentRequest(f'Please keep the note on days and times under {NOTE_MAX} characters.')
    for text, label in ((reason, 'reason'), (note, 'note on days and times')):
        if unstorable(text):
            raise InvalidAppointmentRequest(UNSTORABLE_SENTENCE.format(label=label))
    described = Preferences(preferences.days, preferences.times, note).describe()
    return reason, described[:PREFERENCES_MAX]


async def request_appointment(
    patient_id: int,
    reason: str,
    preferences: Preferences,
    actor: audit.Actor,
    *,
    visit_type: VisitType | str = VisitType.OTHER,
    location_id: int | None = None,
) -> AppointmentRequest:
    """Create a pending request for staff to handle; a patient cannot flood the front desk.

    The request takes a free pending slot (1..3); the unique (patient, pending_slot) constraint makes the
    database refuse a fourth, even when several arrive at the same moment."""
    reason, preferred = _validated(reason, preferences)
    if visit_type not in set(VisitType):
        raise InvalidAppointmentRequest('Please choose a visit type from the list.')
    patient = await Patient.get(id=patient_id)
    if location_id is not None and not await Location.exists(
        id=location_id, practice_id=patient.practice_id, is_active=True
    ):
        raise InvalidAppointmentRequest('Please choose a location from the list.')
    pending = await AppointmentRequest.filter(patient_id=patient_id, status=RequestStatus.PENDING).values_list(
        'reason', 'visit_type', 'pending_slot'
    )
    if any(r.casefold() == reason.casefold() and v == visit_type for r, v, _ in pending):
        raise DuplicateRequest()
    taken = {slot for _, _, slot in pending}
    for slot in [s for s in range(1, MAX_PENDING + 1) if s not in taken] + [
        s for s in range(1, MAX_PENDING + 1) if s in taken
    ]:
        try:
            async with in_transaction():  # the request and its audit row are written together or not at all
                request = await AppointmentRequest.create(
                    patient_id=patient_id,
                    reason=reason,
                    preferred_times=preferred,
                    visit_type=VisitType(visit_type),
                    location_id=location_id,
                    pending_slot=slot,
                )
                await audit.record(
                    'appointment.requested',
                    actor,
                    patient_id=patient_id,
                    object_type='appointment_request',
                    object_id=request.id,
                )
        except IntegrityError:
            continue  # that slot was taken meanwhile (by a simultaneous submission): try the next one
        await events.publish(patient_id, events.APPOINTMENTS)
        return request
    raise TooManyPendingRequests()


async def can_request(patient_id: int) -> bool:
    """Whether the form is worth showing: fewer than three requests are waiting."""
    return await AppointmentRequest.filter(patient_id=patient_id, status=RequestStatus.PENDING).count() < MAX_PENDING


async def pending_for(patient_id: int) -> list[AppointmentRequest]:
    """The patient's requests still waiting for the practice, newest first."""
    return await AppointmentRequest.filter(patient_id=patient_id, status=RequestStatus.PENDING).order_by(
        '-created_at', '-id'
    )


async def history_for(patient_id: int, limit: int = 30) -> list[AppointmentRequest]:
    """Every request of the patient with what became of it (and the appointment it became), newest first."""
    return (
        await AppointmentRequest.filter(patient_id=patient_id)
        .select_related('appointment', 'location')
        .order_by('-created_at', '-id')
        .limit(limit)
    )


async def history_and_room(patient_id: int, limit: int = 30) -> tuple[list[AppointmentRequest], bool]:
    """`history_for` and `can_request` together, in one statement written once (`services.joined`): the
    Appointments tab reads both on every load (issue 11). The waiting requests are counted over all of them,
    not only the `limit` shown; no request at all leaves room."""
    requests, waiting = [], 0
    for row in await _HISTORY.rows([patient_id, RequestStatus.PENDING.value, limit]):
        request = joined.build(AppointmentRequest, row, 'r')
        joined.attach(request, 'appointment', joined.build_or_none(Appointment, row, 'a'))
        joined.attach(request, 'location', joined.build_or_none(Location, row, 'l'))
        requests.append(request)
        waiting = row['waiting']
    return requests, waiting < MAX_PENDING


def _history_statement(connection: BaseDBAsyncClient) -> str:
    patient, pending, limit = (joined.parameter(connection, n) for n in range(1, 4))
    table = AppointmentRequest._meta.db_table
    return (
        f'SELECT {joined.selected(AppointmentRequest, "r")}, {joined.selected(Appointment, "a")}, '
        f'{joined.selected(Location, "l")}, '
        f'(SELECT COUNT(*) FROM "{table}" w WHERE w."patient_id" = {patient} AND w."status" = {pending}) AS "waiting" '
        f'FROM "{table}" r LEFT JOIN "{Appointment._meta.db_table}" a ON a."id" = r."appointment_id" '
        f'LEFT JOIN "{Location._meta.db_table}" l ON l."id" = r."location_id" '
        f'WHERE r."patient_id" = {patient} ORDER BY r."created_at" DESC, r."id" DESC LIMIT {limit}'
    )


_HISTORY = joined.Statement(AppointmentRequest, _history_statement)


async def withdraw(patient_id: int, request_id: int, actor: audit.Actor) -> None:
    """The patient takes back a pending request; another patient's id answers like a missing one."""
    async with in_transaction():
        done = await AppointmentRequest.filter(
            id=request_id, patient_id=patient_id, status=RequestStatus.PENDING
        ).update(status=RequestStatus.WITHDRAWN, pending_slot=None, handled_at=datetime.now(UTC))
        if not done:
            if await AppointmentRequest.exists(id=request_id, patient_id=patient_id):
                raise RequestAlreadyHandled()
            raise NotFound('request')
        await audit.record(
            'appointment_request.withdrawn',
            actor,
            patient_id=patient_id,
            object_type='appointment_request',
            object_id=request_id,
        )
    await events.publish(patient_id, events.APPOINTMENTS)


# --- the console ---------------------------------------------------------------------------------


async def open_requests(practice_id: int, location_id: int | None = None) -> list[AppointmentRequest]:
    """The inbox: pending requests, oldest first, with the patient and the preferred location."""
    query = AppointmentRequest.filter(status=RequestStatus.PENDING, patient__practice_id=practice_id)
    if location_id is not None:
        query = query.filter(location_id=location_id)
    return await query.select_related('patient', 'location').order_by('created_at', 'id')


async def open_count() -> int:
    """For the console header: how many requests wait for an answer."""
    return await AppointmentRequest.filter(status=RequestStatus.PENDING).count()


async def get_request(request_id: int) -> AppointmentRequest:
    request = await AppointmentRequest.filter(id=request_id).select_related('patient__practice', 'location').first()
    if request is None:
        raise NotFound('request')
    return request


async def schedule(request_id: int, slot: Slot, actor: audit.Actor, *, confirm_overlap: bool = False) -> Appointment:
    """Turn a pending request into a booked appointment; the patient gets an email and sees it change."""
    request = await get_request(request_id)
    if request.status != RequestStatus.PENDING:
        raise RequestAlreadyHandled()
    return await appointments.book(
        request.patient_id, slot, actor, confirm_overlap=confirm_overlap, request_id=request.id
    )


async def decline(request_id: int, reply: str, actor: audit.Actor) -> AppointmentRequest:
    """Answer a request without booking it; the reply is what the patient reads (by email and in the tab)."""
    reply = paragraphs(reply)
    if not reply:
        raise InvalidAppointmentRequest('Please write a reply for the patient: it is what they will read.')
    if len(reply) > REPLY_MAX:
        raise InvalidAppointmentRequest(f'Please keep the reply under {REPLY_MAX} characters.')
    if unstorable(reply, multiline=True):
        raise InvalidAppointmentRequest(UNSTORABLE_SENTENCE.format(label='reply'))
    request = await get_request(request_id)
    patient = request.patient
    practice = patient.practice
    message = None
    async with in_transaction():
        done = await AppointmentRequest.filter(id=request.id, status=RequestStatus.PENDING).update(
            status=RequestStatus.DECLINED,
            pending_slot=None,
            reply=reply,
            handled_at=datetime.now(UTC),
            handled_by_id=actor.id if actor.type == 'staff' else None,
        )
        if not done:
            raise RequestAlreadyHandled()
        await audit.record(
            'appointment_request.declined',
            actor,
            patient_id=patient.id,
            object_type='appointment_request',
            object_id=request.id,
        )
        if patient.email:
            subject, body = appointment_mail.declined(
                patient.first_name, request.reason, reply, appointments.sender_of(practice)
            )
            message = await outbox.enqueue_email(
                to=patient.email, subject=subject, body=body, purpose='appointment', patient=patient
            )
    await events.publish(patient.id, events.APPOINTMENTS)
    if message is not None:
        await events.publish(patient.id, events.MESSAGES)
        outbox.deliver_soon(message.id)
    await request.refresh_from_db()
    return request


START_OF = {'Morning': time(9, 0), 'Afternoon': time(14, 0), 'Evening': time(17, 0)}


def preferred_days_and_times(preferred: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The days and times a stored preference names ('Tue, Thu; morning; after 4 pm' -> Tue, Thu; Morning)."""
    parts = [part.strip() for part in (preferred or '').split(';')]
    named_days = {d.strip() for d in parts[0].split(',')} if parts else set()
    named_times = {t.strip() for t in parts[1].split(',')} if len(parts) > 1 else set()
    return tuple(d for d in DAYS if d in named_days), tuple(t for t in TIMES if t.lower() in named_times)


def suggested_slot(request: AppointmentRequest, today: date | None = None) -> dict[str, object]:
    """What the scheduling form starts from: the patient's visit type and location, a duration, and the
    first day after `today` that suits them (Monday to Saturday) at the start of their preferred time."""
    visit_type = VisitType(request.visit_type)
    days, times = preferred_days_and_times(request.preferred_times)
    day = (today or date.today()) + timedelta(days=1)
    for _ in range(7):
        if day.weekday() < len(DAYS) and (not days or DAYS[day.weekday()] in days):
            break
        day += timedelta(days=1)
    return {
        'visit_type': visit_type,
        'location_id': request.location_id,
        'duration_minutes': appointments.DEFAULT_DURATIONS[visit_type],
        'preferred_times': request.preferred_times,
        'day': day,
        'start': START_OF[times[0]] if times else START_OF['Morning'],
    }
