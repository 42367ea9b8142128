"""Appointments: booking, rescheduling and cancelling from the console, the patient's list, the
schedule grid, and writing times the way the practice's patients read them.

Times are entered and shown in the practice's zone and stored in UTC. Every change is written with its
audit row and the patient's email in one transaction; the change event is published after commit.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.appointment import Appointment, AppointmentRequest, AppointmentStatus, RequestStatus, VisitType
from models.outbox import OutboxMessage
from models.patient import Patient
from models.practice import Location, Practice, Provider
from services import appointment_mail, audit, events, joined, outbox
from services.errors import DomainError, NotFound
from services.typed_text import UNSTORABLE_SENTENCE, one_line, unstorable

HIDDEN_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
DEFAULT_DURATIONS = {
    VisitType.EYE_EXAM: 60,
    VisitType.CONTACT_LENS_FITTING: 45,
    VisitType.GLASSES_PROBLEM: 20,
    VisitType.FOLLOW_UP: 30,
    VisitType.OTHER: 30,
}
MAX_DURATION = 8 * 60
CANCEL_REASON_MAX = 300
NOTE_MAX = 200  # Appointment.reason
LONGEST_VISIT = timedelta(minutes=MAX_DURATION)  # how far back an overlapping visit can start
WITHDRAWN = 'withdrawn'  # outbox status of a reminder taken back before it was sent


class InvalidAppointment(DomainError):
    """What is wrong with the booking form, in words the receptionist can act on."""


class ProviderBusy(DomainError):
    """The provider already has a visit then: staff may book anyway, knowingly."""

    def __init__(self, provider: str, clashes: list[str]) -> None:
        self.clashes = clashes
        super().__init__(f'{provider} already has {"; ".join(clashes)} at that time.')


class AppointmentNotBooked(DomainError):
    def __init__(self) -> None:
        super().__init__('This appointment is no longer booked: reload to see its current state.')


@dataclass(frozen=True)
class Slot:
    """A time on the schedule as staff enter it: the practice's wall clock, not UTC."""

    provider_id: int
    location_id: int
    day: date
    start: time
    duration_minutes: int
    visit_type: VisitType
    note: str = ''


# --- time in the practice's zone -------------------------------------------------------------------


def zone_of(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (KeyError, ValueError):
        return ZoneInfo('UTC')


def local_time(moment: datetime, time_zone: str) -> datetime:
    """An aware UTC time in the practice's zone (falls back to UTC for an unknown zone name)."""
    return moment.astimezone(zone_of(time_zone))


def to_utc(day: date, start: time, time_zone: str) -> datetime:
    """The practice's wall-clock time as aware UTC. A time the clocks skip (spring forward) is refused;
    a time they pass twice (fall back) is the first one."""
    zone = zone_of(time_zone)
    local = datetime.combine(day, start.replace(tzinfo=None, fold=0), tzinfo=zone)
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise InvalidAppointment(
            f'{start:%I:%M %p} does not exist on {day:%B} {day.day}: the clocks change that night. '
            'Please choose another time.'
        )
    return moment


def today_in(time_zone: str) -> date:
    """The practice's calendar date: a prescription expires at the practice's midnight, not the server's."""
    return local_time(datetime.now(UTC), time_zone).date()


def format_day(moment: datetime, time_zone: str) -> str:
    """'Tuesday, March 4, 2025' in the practice's zone."""
    local = local_time(moment, time_zone)
    return f'{local:%A, %B} {local.day}, {local.year}'


def format_time(moment: datetime, time_zone: str) -> str:
    """'9:30 AM EST' in the practice's zone: the zone name says whose clock it is."""
    local = local_time(moment, time_zone)
    hour = local.hour % 12 or 12
    return f'{hour}:{local:%M %p %Z}'.strip()


def format_clock(moment: datetime, time_zone: str) -> str:
    """'9:30 AM' for the schedule grid, where the zone is said once for the whole page."""
    local = local_time(moment, time_zone)
    return f'{local.hour % 12 or 12}:{local:%M %p}'


def ends_at(appointment: Appointment) -> datetime:
    return appointment.starts_at + timedelta(minutes=appointment.duration_minutes)


def map_url(address: str) -> str:
    """A map search any phone opens in its maps app."""
    return f'https://www.google.com/maps/search/?api=1&query={quote_plus(address)}' if address else ''


def place(location: Location | None) -> str:
    if location is None:
        return ''
    return ', '.join(part for part in (location.name, location.address) if part)


# --- the patient's view ----------------------------------------------------------------------------


async def upcoming_for(patient_id: int, now: datetime | None = None) -> list[Appointment]:
    """Booked appointments still ahead, soonest first, with provider and location: one query, however many."""
    now = now or datetime.now(UTC)
    return (
        await Appointment.filter(patient_id=patient_id, starts_at__gte=now, status=AppointmentStatus.BOOKED)
        .select_related('provider', 'location')
        .order_by('starts_at', 'id')
    )


async def earlier_for(patient_id: int, now: datetime | None = None, limit: int = 20) -> list[Appointment]:
    """Past visits and cancelled ones, newest first: what the patient scrolls down to."""
    now = now or datetime.now(UTC)
    return (
        await Appointment.filter(Q(starts_at__lt=now) | ~Q(status=AppointmentStatus.BOOKED), patient_id=patient_id)
        .select_related('provider', 'location')
        .order_by('-starts_at', '-id')
        .limit(limit)
    )


async def visits_for(
    patient_id: int, now: datetime | None = None, limit: int = 20
) -> tuple[list[Appointment], list[Appointment]]:
    """`upcoming_for` and `earlier_for` together, in one statement written once (`services.joined`): the
    Appointments tab reads both on every load, and Tortoise built two joined queries for them (issue 11)."""
    now = now or datetime.now(UTC)
    when = Appointment._meta.fields_map['starts_at'].to_db_value(now, Appointment)  # as Tortoise binds it
    upcoming, earlier = [], []
    for row in await _VISITS.rows([patient_id, when, AppointmentStatus.BOOKED.value, limit]):
        appointment = joined.build(Appointment, row, 'a')
        joined.attach(appointment, 'provider', joined.build_or_none(Provider, row, 'p'))
        joined.attach(appointment, 'location', joined.build_or_none(Location, row, 'l'))
        (upcoming if row['part'] == 1 else earlier).append(appointment)
    upcoming.sort(key=lambda a: (a.starts_at, a.id))
    earlier.sort(key=lambda a: (a.starts_at, a.id), reverse=True)
    return upcoming, earlier


def _visits_statement(connection: BaseDBAsyncClient) -> str:
    """Booked visits ahead (all), then past or cancelled ones (the newest `limit`), each with provider and location."""
    patient, now, booked, limit = (joined.parameter(connection, n) for n in range(1, 5))
    columns = f'{joined.selected(Appointment, "a")}, {joined.selected(Provider, "p")}, {joined.selected(Location, "l")}'
    tables = (
        f'"{Appointment._meta.db_table}" a '
        f'LEFT JOIN "{Provider._meta.db_table}" p ON p."id" = a."provider_id" '
        f'LEFT JOIN "{Location._meta.db_table}" l ON l."id" = a."location_id"'
    )
    return (
        f'SELECT * FROM (SELECT 1 AS part, {columns} FROM {tables} '
        f'WHERE a."patient_id" = {patient} AND a."starts_at" >= {now} AND a."status" = {booked}) upcoming '
        f'UNION ALL SELECT * FROM (SELECT 2 AS part, {columns} FROM {tables} '
        f'WHERE a."patient_id" = {patient} AND (a."starts_at" < {now} OR a."status" <> {booked}) '
        f'ORDER BY a."starts_at" DESC, a."id" DESC LIMIT {limit}) earlier'
    )


_VISITS = joined.Statement(Appointment, _visits_statement)


async def patient_appointment(patient_id: int, appointment_id: int) -> Appointment:
    """One of the patient's own appointments; another patient's answers exactly like a missing one."""
    appointment = (
        await Appointment.filter(id=appointment_id, patient_id=patient_id)
        .select_related('provider', 'location', 'patient__practice')
        .first()
    )
    if appointment is None:
        raise NotFound('appointment')
    return appointment


# --- the console ---------------------------------------------------------------------------------


async def overlaps(
    provider_id: int, starts_at: datetime, duration_minutes: int, exclude_id: int | None = None
) -> list[Appointment]:
    """The provider's booked visits that share any minute with this one."""
    end = starts_at + timedelta(minutes=duration_minutes)
    nearby = (
        Appointment.filter(
            provider_id=provider_id,
            status=AppointmentStatus.BOOKED,
            starts_at__lt=end,
            starts_at__gt=starts_at - LONGEST_VISIT,
        )
        .select_related('patient')
        .order_by('starts_at')
    )
    if exclude_id is not None:
        nearby = nearby.exclude(id=exclude_id)
    return [a for a in await nearby if ends_at(a) > starts_at]


async def overlap_warnings(slot: Slot, time_zone: str, exclude_id: int | None = None) -> list[str]:
    """'Jamie Rivera 9:00 AM–10:00 AM' for each clash; empty when the time is free (or not yet valid)."""
    try:
        starts_at = to_utc(slot.day, slot.start, time_zone)
    except InvalidAppointment:
        return []
    return [
        f'{a.patient.full_name} {format_clock(a.starts_at, time_zone)}–{format_clock(ends_at(a), time_zone)}'
        for a in await overlaps(slot.provider_id, starts_at, slot.duration_minutes, exclude_id)
    ]


def checked_details(duration_minutes: int, visit_type: str, note: str) -> str:
    """The booking rules that need no database (duration, visit type, note); the note as stored.
    Shared by the console's form and the CSV import, which checks a whole chunk of rows at once."""
    if not 5 <= duration_minutes <= MAX_DURATION:
        raise InvalidAppointment(f'Please give a duration between 5 and {MAX_DURATION} minutes.')
    if visit_type not in set(VisitType):
        raise InvalidAppointment('Please choose a visit type from the list.')
    note = one_line(note)
    if len(note) > NOTE_MAX:
        raise InvalidAppointment(f'Please keep the note under {NOTE_MAX} characters.')
    if unstorable(note):
        raise InvalidAppointment(UNSTORABLE_SENTENCE.format(label='note'))
    return note


async def _checked(
    slot: Slot, practice: Practice, *, confirm_overlap: bool, exclude_id: int | None = None
) -> tuple[datetime, Provider, Location]:
    checked_details(slot.duration_minutes, slot.visit_type, slot.note)
    provider = await Provider.filter(id=slot.provider_id, practice_id=practice.id).first()
    location = await Location.filter(id=slot.location_id, practice_id=practice.id).first()
    if provider is None:
        raise InvalidAppointment('Please choose a provider.')
    if location is None:
        raise InvalidAppointment('Please choose a location.')
    starts_at = to_utc(slot.day, slot.start, practice.time_zone)
    if not confirm_overlap:
        clashes = await overlap_warnings(slot, practice.time_zone, exclude_id)
        if clashes:
            raise ProviderBusy(provider.display_name, clashes)
    return starts_at, provider, location


def visit_of(appointment: Appointment, practice: Practice) -> appointment_mail.Visit:
    """The appointment in words (provider and location fetched)."""
    zone = practice.time_zone
    address = appointment.location.address if appointment.location else ''
    return appointment_mail.Visit(
        day=format_day(appointment.starts_at, zone),
        time=format_time(appointment.starts_at, zone),
        visit_type=VisitType(appointment.visit_type).label,
        provider=appointment.provider.display_name if appointment.provider else '',
        location=place(appointment.location),
        map_url=map_url(address),
    )


def sender_of(practice: Practice) -> appointment_mail.From:
    return appointment_mail.From(practice=practice.name, phone=practice.phone, portal_url=practice.portal_url)


async def _email(patient: Patient, mail: appointment_mail.Mail, purpose: str) -> OutboxMessage | None:
    if not patient.email:
        return None  # no address on file: the front desk tells the patient some other way
    subject, body = mail
    return await outbox.enqueue_email(to=patient.email, subject=subject, body=body, purpose=purpose, patient=patient)


async def withdraw_reminder(appointment: Appointment) -> None:
    """A reminder still queued for the old time is taken back (one being sent right now goes out).
    Call inside the transaction that moves, cancels or closes the visit."""
    if appointment.reminder_message_id:
        await OutboxMessage.filter(id=appointment.reminder_message_id, status='queued').update(
            status=WITHDRAWN, next_attempt_at=None, last_error='Withdrawn: the appointment changed.'
        )


def _reminder_due_already(starts_at: datetime, practice: Practice) -> datetime | None:
    """Booked inside the reminder window: the confirmation is the reminder, so none is queued later."""
    if starts_at - timedelta(hours=practice.reminder_lead_hours) <= datetime.now(UTC):
        return starts_at
    return None


async def _patient(patient_id: int) -> Patient:
    patient = await Patient.filter(id=patient_id).select_related('practice').first()
    if patient is None:
        raise NotFound('patient')
    return patient


class RequestAlreadyHandled(DomainError):
    def __init__(self) -> None:
        super().__init__('This request was already handled (or withdrawn by the patient): reload the inbox.')


async def book(
    patient_id: int,
    slot: Slot,
    actor: audit.Actor,
    *,
    confirm_overlap: bool = False,
    request_id: int | None = None,
    notify: bool = True,
) -> Appointment:
    """Book a visit (from the console, or from a patient's request, which then becomes scheduled).

    Raises `ProviderBusy` when the provider has a clash and `confirm_overlap` is False. `notify=False`
    books without the confirmation email: a visit the practice's own system records after the fact
    (the FHIR API writing a past or cancelled visit) must not tell the patient it was just booked."""
    patient = await _patient(patient_id)
    practice = patient.practice
    starts_at, provider, location = await _checked(slot, practice, confirm_overlap=confirm_overlap)
    async with in_transaction():
        appointment = await Appointment.create(
            patient_id=patient.id,
            provider=provider,
            location=location,
            starts_at=starts_at,
            duration_minutes=slot.duration_minutes,
            visit_type=VisitType(slot.visit_type),
            reason=one_line(slot.note),
            reminder_for=_reminder_due_already(starts_at, practice),
        )
        if request_id is not None:
            # One atomic update: a request withdrawn (or scheduled by a colleague) meanwhile is not taken.
            taken = await AppointmentRequest.filter(
                id=request_id, patient_id=patient.id, status=RequestStatus.PENDING
            ).update(
                status=RequestStatus.SCHEDULED,
                pending_slot=None,
                appointment_id=appointment.id,
                handled_at=datetime.now(UTC),
                handled_by_id=actor.id if actor.type == 'staff' else None,
            )
            if not taken:
                raise RequestAlreadyHandled()
        await audit.record(
            'appointment.booked',
            actor,
            patient_id=patient.id,
            object_type='appointment',
            object_id=appointment.id,
            detail={'starts_at': starts_at.isoformat(), 'request_id': request_id},
        )
        message = None
        if notify:
            visit = visit_of(appointment, practice)
            mail = (appointment_mail.scheduled if request_id else appointment_mail.booked)(
                patient.first_name, visit, sender_of(practice)
            )
            message = await _email(patient, mail, 'appointment')
    await _after_change(patient.id, message)
    return appointment


async def get_appointment(appointment_id: int) -> Appointment:
    """One appointment for the console's forms, with patient (and practice), provider and location."""
    appointment = (
        await Appointment.filter(id=appointment_id).select_related('patient__practice', 'provider', 'location').first()
    )
    if appointment is None:
        raise NotFound('appointment')
    return appointment


async def _booked(appointment_id: int) -> Appointment:
    appointment = (
        await Appointment.filter(id=appointment_id).select_related('patient__practice', 'provider', 'location').first()
    )
    if appointment is None:
        raise NotFound('appointment')
    if appointment.status != AppointmentStatus.BOOKED:
        raise AppointmentNotBooked()
    return appointment


async def reschedule(
    appointment_id: int, slot: Slot, actor: audit.Actor, *, confirm_overlap: bool = False
) -> Appointment:
    """Move a booked visit. Its reminder is for the old time: withdrawn if queued, and a new one follows."""
    appointment = await _booked(appointment_id)
    patient = appointment.patient
    practice = patient.practice
    starts_at, provider, location = await _checked(
        slot, practice, confirm_overlap=confirm_overlap, exclude_id=appointment.id
    )
    before = appointment.starts_at
    reminder_for = appointment.reminder_for if starts_at == before else _reminder_due_already(starts_at, practice)
    async with in_transaction():
        moved = await Appointment.filter(id=appointment.id, status=AppointmentStatus.BOOKED).update(
            provider_id=provider.id,
            location_id=location.id,
            starts_at=starts_at,
            duration_minutes=slot.duration_minutes,
            visit_type=VisitType(slot.visit_type),
            reason=one_line(slot.note),
            reminder_for=reminder_for,
        )
        if not moved:
            raise AppointmentNotBooked()
        if starts_at != before:
            await withdraw_reminder(appointment)
        await audit.record(
            'appointment.rescheduled',
            actor,
            patient_id=patient.id,
            object_type='appointment',
            object_id=appointment.id,
            detail={'from': before.isoformat(), 'to': starts_at.isoformat()},
        )
        await appointment.refresh_from_db()
        await appointment.fetch_related('provider', 'location')
        mail = appointment_mail.rescheduled(patient.first_name, visit_of(appointment, practice), sender_of(practice))
        message = await _email(patient, mail, 'appointment')
    await _after_change(patient.id, message)
    return appointment


async def cancel(appointment_id: int, reason: str, actor: audit.Actor) -> Appointment:
    """Cancel with a reason the patient reads; a reminder still queued is withdrawn."""
    reason = one_line(reason)
    if not reason:
        raise InvalidAppointment('Please give a reason for the cancellation.')
    if len(reason) > CANCEL_REASON_MAX:
        raise InvalidAppointment(f'Please keep the reason under {CANCEL_REASON_MAX} characters.')
    if unstorable(reason):
        raise InvalidAppointment(UNSTORABLE_SENTENCE.format(label='reason'))
    appointment = await _booked(appointment_id)
    patient = appointment.patient
    practice = patient.practice
    async with in_transaction():
        done = await Appointment.filter(id=appointment.id, status=AppointmentStatus.BOOKED).update(
            status=AppointmentStatus.CANCELLED, cancel_reason=reason
        )
        if not done:
            raise AppointmentNotBooked()
        await withdraw_reminder(appointment)
        await audit.record(
            'appointment.cancelled',
            actor,
            patient_id=patient.id,
            object_type='appointment',
            object_id=appointment.id,
            detail={'reason': reason},
        )
        message = None
        if appointment.starts_at > datetime.now(UTC):
            mail = appointment_mail.cancelled(
                patient.first_name, visit_of(appointment, practice), reason, sender_of(practice)
            )
            message = await _email(patient, mail, 'appointment')
    appointment.status, appointment.cancel_reason = AppointmentStatus.CANCELLED, reason
    await _after_change(patient.id, message)
    return appointment


async def set_outcome(appointment_id: int, status: AppointmentStatus, actor: audit.Actor) -> None:
    """After the visit: completed or no-show."""
    if status not in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        raise InvalidAppointment('An appointment ends as completed or no-show.')
    appointment = await _booked(appointment_id)
    async with in_transaction():
        await Appointment.filter(id=appointment.id).update(status=status)
        await withdraw_reminder(appointment)
        await audit.record(
            f'appointment.{status.value}',
            actor,
            patient_id=appointment.patient_id,
            object_type='appointment',
            object_id=appointment.id,
        )
    await _after_change(appointment.patient_id, None)


async def _after_change(patient_id: int, message: OutboxMessage | None) -> None:
    """After commit: tell open pages, and send the email now rather than at the next retry pass."""
    await events.publish(patient_id, events.APPOINTMENTS)
    if message is not None:
        await events.publish(patient_id, events.MESSAGES)
        outbox.deliver_soon(message.id)


# --- the schedule grid ------------------------------------------------------------------------------


@dataclass
class Grid:
    """Days x providers for one location: each cell the visits of that provider that day, by time."""

    location: Location
    days: list[date]
    providers: list[Provider]
    cells: dict[tuple[int, date], list[Appointment]] = field(default_factory=dict)

    def cell(self, provider_id: int, day: date) -> list[Appointment]:
        return self.cells.get((provider_id, day), [])


async def schedule_grid(practice: Practice, location_id: int, first_day: date, days: int = 1) -> Grid:
    """One query for the visits, one for the providers: the grid of a day or a week at one location.
    The day's bounds are the practice's midnights, so a week that crosses a DST change has 167 or 169 hours."""
    location = await Location.filter(id=location_id, practice_id=practice.id).first()
    if location is None:
        raise NotFound('location')
    zone = zone_of(practice.time_zone)
    day_list = [first_day + timedelta(days=n) for n in range(days)]
    start = datetime.combine(first_day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(first_day + timedelta(days=days), time(0), tzinfo=zone).astimezone(UTC)
    visits = (
        await Appointment.filter(location_id=location_id, starts_at__gte=start, starts_at__lt=end)
        .select_related('patient', 'provider')
        .order_by('starts_at', 'id')
    )
    providers = await Provider.filter(practice_id=practice.id, is_active=True).order_by('name', 'id')
    known = {p.id for p in providers}
    for visit in visits:  # an inactive provider's visits still show
        if visit.provider is not None and visit.provider_id not in known:
            providers.append(visit.provider)
            known.add(visit.provider_id)
    grid = Grid(location, day_list, providers)
    for visit in visits:
        key = (visit.provider_id or 0, local_time(visit.starts_at, practice.time_zone).date())
        grid.cells.setdefault(key, []).append(visit)
    return grid


async def booked_for_patient(patient_id: int) -> list[Appointment]:
    """The console's list on the Patient Profile: every visit, newest first."""
    return (
        await Appointment.filter(patient_id=patient_id)
        .select_related('provider', 'location')
        .order_by('-starts_at', '-id')
        .limit(50)
    )
