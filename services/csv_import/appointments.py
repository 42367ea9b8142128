"""Appointment rows: the practice's schedule, past and future, attached to patients already on file.

Each row is checked by the booking form's rules (`services.appointments.checked_details`, the practice's
wall clock through `to_utc`: a time the clocks skip is refused, one they pass twice is the first), its
patient found by chart number, its provider by NPI or name and its location by name (unknown ones refused).
Then it is matched: by the source's appointment id when the file has one, else by patient and start time.

What an import tells the patient: nothing. The previous system booked these visits and told the patient
then; a file of a thousand visits must not send a thousand "your appointment is booked" emails, and a
visit in the past or no longer booked needs no reminder at all (it is marked as reminded-for, so the
reminder pass never picks it up). A future booked visit gets its reminder by the normal rule, when the
practice's lead time before it comes (at once, if it is nearer than that). A visit moved or closed by a
later file has its queued reminder withdrawn, as in the console. An overlap with another visit of the
provider is not refused (the source system booked both) but noted on the row.

A visit on file that is no longer booked (cancelled, completed, no-show) is history: a later file cannot
change it, as the console cannot (the row is refused, saying so).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from models.api_client import ExternalIdentifier
from models.appointment import Appointment, AppointmentStatus, VisitType
from models.audit import AuditEvent
from models.patient import Patient
from models.practice import Location, Practice, Provider
from services import appointments, audit, events
from services.appointments import DEFAULT_DURATIONS, checked_details, format_clock, to_utc
from services.csv_import import records
from services.csv_import.records import RowRefused, parse_clock, parse_moment
from services.csv_import.rows import CHART_NUMBER_ALIASES, Action, Field, RowPlan, earlier_rows
from services.errors import DomainError
from services.patients import fold

KIND = 'Appointment'  # the source-id kind, as the FHIR API names it
CANCEL_REASON = "Cancelled in the practice's previous system."
LABEL = 'Appointments'
ACTION_LABELS = {
    Action.CREATE: 'New appointment',
    Action.UPDATE: 'Update',
    Action.UNCHANGED: 'No change',
    Action.REFUSED: 'Refused',
    Action.HELD: 'Held for review',  # never: an appointment names its patient by chart number
}
FIELDS = (
    Field('chart_number', 'Chart number', True, CHART_NUMBER_ALIASES),
    Field('date', 'Date', True, ('start', 'start date', 'appointment date', 'appt date', 'visit date', 'when')),
    Field('time', 'Time', aliases=('start time', 'appointment time', 'appt time')),
    Field('duration', 'Duration (minutes)', aliases=('duration', 'minutes', 'length', 'mins')),
    Field('end', 'End', aliases=('end time', 'ends', 'finish')),
    Field('provider', 'Provider', aliases=('doctor', 'provider name', 'npi', 'optometrist', 'resource')),
    Field('location', 'Location', aliases=('office', 'site', 'clinic', 'location name')),
    Field('visit_type', 'Visit type', aliases=('type', 'appointment type', 'appt type', 'visit')),
    Field('reason', 'Reason', aliases=('note', 'notes', 'description', 'comment')),
    Field('status', 'Status', aliases=('appointment status', 'state')),
    Field('cancel_reason', 'Cancellation reason', aliases=('cancel reason', 'cancellation')),
    Field('appointment_id', 'Appointment id', aliases=('appt id', 'appointment #', 'id', 'visit id')),
)
# One past visit, one upcoming, one cancelled: what a schedule export looks like.
TEMPLATE = [
    ['1001', '2024-03-04', '9:30 AM', '60', '', 'Dana Whitfield', 'Main office', 'Eye exam', 'Annual exam',
     'completed', '', 'A-5001'],
    ['1002', '12/03/2030', '14:00', '', '14:45', '1234567893', 'Main office', 'Contact lens fitting', '',
     'booked', '', 'A-5002'],
    ['1001', '2030-01-15', '08:00', '30', '', 'Dr. Dana Whitfield, OD', 'Main office', 'Follow-up',
     'Pressure check', 'cancelled', 'Patient moved away', 'A-5003'],
]  # fmt: skip

STATUS_WORDS = {
    AppointmentStatus.BOOKED: ('booked', 'scheduled', 'confirmed', 'pending', 'rescheduled', 'active', 'open'),
    AppointmentStatus.COMPLETED: (
        'completed', 'complete', 'kept', 'seen', 'arrived', 'checked out', 'checked in', 'fulfilled', 'done',
    ),
    AppointmentStatus.CANCELLED: ('cancelled', 'canceled', 'cancel', 'cxl', 'deleted'),
    AppointmentStatus.NO_SHOW: ('no show', 'no-show', 'noshow', 'missed', 'dna', 'did not attend', 'failed'),
}  # fmt: skip
STATUS_BY_WORD = {fold(word): status for status, words in STATUS_WORDS.items() for word in words}
VISIT_WORDS = {
    VisitType.EYE_EXAM: ('eye exam', 'exam', 'comprehensive exam', 'comprehensive eye exam', 'annual exam'),
    VisitType.CONTACT_LENS_FITTING: ('contact lens fitting', 'contact-lens fitting', 'cl fitting', 'contacts'),
    VisitType.GLASSES_PROBLEM: ('glasses problem', 'glasses or lens problem', 'glasses', 'repair', 'adjustment'),
    VisitType.FOLLOW_UP: ('follow up', 'follow-up', 'followup', 'recheck', 'post op'),
    VisitType.OTHER: ('other',),
}  # fmt: skip
VISIT_BY_WORD = {fold(word): visit for visit, words in VISIT_WORDS.items() for word in words} | {
    fold(v.value): v for v in VisitType
}


@dataclass
class Prepared:
    """A row after the checks that need no database: what it says, or why it is refused."""

    row_number: int
    values: dict[str, str]
    reason: str = ''
    source_id: str = ''
    moment: tuple[date, time] | datetime | None = None
    end: tuple[date, time] | datetime | time | None = None
    minutes: int | None = None
    visit_type: VisitType = VisitType.OTHER
    note: str = ''
    status: AppointmentStatus = AppointmentStatus.BOOKED
    cancel_reason: str = ''


@dataclass
class AppointmentPlan(RowPlan):
    """A row's plan, and the appointment it writes (a new one, or the one on file with its new values)."""

    appointment: Appointment | None = None
    source_id: str = ''
    withdraw: bool = False  # a queued reminder belongs to the old time or status
    fields_before: dict[str, object] = field(default_factory=dict)


def identity(values: dict[str, str]) -> tuple[str, ...]:
    """What makes two rows the same visit: the source's id, else the chart number and the start as written."""
    if source := values.get('appointment_id', '').strip():
        return ('id', source)
    return ('visit', values.get('chart_number', '').strip(), values.get('date', '').strip(), values.get('time', ''))


def duplicates(rows: list[tuple[int, dict[str, str]]]) -> dict[int, int]:
    """row number -> the earlier row of the same visit (the first one wins)."""
    return earlier_rows(rows, identity)


def _minutes(text: str) -> int:
    raw = fold(text).replace('minutes', '').replace('mins', '').replace('min', '').strip()
    if raw.isdigit():
        return int(raw)
    hours, colon, minutes = text.strip().partition(':')
    if colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
        return int(hours) * 60 + int(minutes)
    raise RowRefused(f'The duration "{text}" must be a number of minutes, such as 30.')


def _status(text: str) -> AppointmentStatus:
    if not text.strip():
        return AppointmentStatus.BOOKED
    status = STATUS_BY_WORD.get(fold(text))
    if status is None:
        raise RowRefused(f'The status "{text}" is not one of booked, completed, cancelled or no-show.')
    return status


def prepare_row(number: int, values: dict[str, str]) -> Prepared:
    item = Prepared(number, values, source_id=values.get('appointment_id', '').strip())
    item.moment = parse_moment(values.get('date', ''), values.get('time', ''), 'start')
    if duration := values.get('duration', '').strip():
        item.minutes = _minutes(duration)
    elif end := values.get('end', '').strip():
        if ' ' in end or 'T' in end:
            item.end = parse_moment(end, '', 'end')
        else:
            item.end = parse_clock(end, 'end time')
    type_text = values.get('visit_type', '').strip()
    item.visit_type = VISIT_BY_WORD.get(fold(type_text), VisitType.OTHER) if type_text else VisitType.EYE_EXAM
    note = values.get('reason', '').strip()
    if type_text and fold(type_text) not in VISIT_BY_WORD and not note:
        note = type_text  # a type of the old system's own: kept in words, filed as Other
    item.status = _status(values.get('status', ''))
    item.cancel_reason = values.get('cancel_reason', '').strip() or CANCEL_REASON
    minutes = item.minutes if item.minutes is not None else DEFAULT_DURATIONS[item.visit_type]
    item.note = checked_details(minutes, item.visit_type, note)  # the duration is checked again once known
    if len(item.source_id) > 200:
        raise RowRefused('The appointment id is longer than 200 characters.')
    return item


def prepare(rows: list[tuple[int, dict[str, str]]], duplicate_of: dict[int, int]) -> list[Prepared]:
    """The checks that need no database, row by row (CPU only: runs in a thread for big files)."""
    prepared = []
    for number, values in rows:
        if number in duplicate_of:
            what = 'appointment id' if values.get('appointment_id') else 'chart number and start'
            reason = f'Duplicate in the file: the same {what} as row {duplicate_of[number]}.'
            prepared.append(Prepared(number, values, reason=reason))
            continue
        try:
            prepared.append(prepare_row(number, values))
        except DomainError as error:
            prepared.append(Prepared(number, values, reason=str(error)))
    return prepared


def _folded_names(text: str) -> set[str]:
    """What a file may call a provider: 'Dr. Dana Whitfield, OD', 'dana whitfield' or 'Whitfield, Dana'."""

    def bare(words: list[str]) -> str:
        return ' '.join(words[1:] if words and words[0] in ('dr', 'doctor') else words)

    before, comma, after = text.partition(',')
    names = {bare(fold(before).split())}
    if comma and after.strip():
        names.add(bare(fold(f'{after} {before}').split()))
    return names - {''}


@dataclass
class Directory:
    """The practice's providers and locations, looked up by what a file calls them."""

    practice: Practice
    providers: list[Provider]
    locations: list[Location]

    def provider(self, text: str) -> Provider:
        text = text.strip()
        if not text:
            if len(self.providers) == 1:
                return self.providers[0]
            raise RowRefused('The provider is missing: give the provider by name or NPI.')
        digits = ''.join(c for c in text if c.isdigit())
        matches = [p for p in self.providers if p.npi and digits == p.npi and len(digits) == len(text)]
        if not matches:
            names = _folded_names(text)
            matches = [p for p in self.providers if _folded_names(p.name) & names]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise RowRefused(f'More than one provider is named "{text}": give the NPI instead.')
        raise RowRefused(f'No provider "{text}" is set up for this practice (name or NPI). Add them under Team first.')

    def location(self, text: str) -> Location:
        text = text.strip()
        if not text:
            if len(self.locations) == 1:
                return self.locations[0]
            raise RowRefused("The location is missing: give the name of one of the practice's locations.")
        matches = [loc for loc in self.locations if fold(loc.name) == fold(text)]
        if len(matches) == 1:
            return matches[0]
        names = ', '.join(loc.name for loc in self.locations)
        raise RowRefused(f'No location is called "{text}" (the practice\'s locations: {names}).')


async def directory(practice: Practice) -> Directory:
    return Directory(
        practice,
        await Provider.filter(practice_id=practice.id).order_by('id'),
        await Location.filter(practice_id=practice.id).order_by('id'),
    )


def _start_and_minutes(item: Prepared, zone: str) -> tuple[datetime, int]:
    """Aware UTC start and the length in minutes; an end on the practice's clock counts real minutes (DST)."""
    assert item.moment is not None
    start = item.moment if isinstance(item.moment, datetime) else to_utc(*item.moment, zone)
    start = start.astimezone(UTC)
    if item.minutes is not None:
        minutes = item.minutes
    elif item.end is not None:
        if isinstance(item.end, datetime):
            end = item.end.astimezone(UTC)
        elif isinstance(item.end, time):
            day = appointments.local_time(start, zone).date()
            end = to_utc(day, item.end, zone)
        else:
            end = to_utc(*item.end, zone)
        minutes = int((end - start).total_seconds() // 60)
        if minutes <= 0:
            raise RowRefused('The end is not after the start.')
    else:
        minutes = DEFAULT_DURATIONS[item.visit_type]
    checked_details(minutes, item.visit_type, item.note)
    return start, minutes


async def plan(prepared: list[Prepared], now: datetime | None = None) -> list[AppointmentPlan]:
    """What each row would do to the schedule on file now: a handful of queries for the chunk, plus one per
    future booked visit to look for overlaps."""
    now = now or datetime.now(UTC)
    valid = [p for p in prepared if not p.reason]
    by_chart = await records.patients_by_chart({p.values.get('chart_number', '').strip() for p in valid} - {''})
    practice = await Practice.first()
    if practice is None:
        return [_refused(p, 'The practice is not set up yet.') for p in prepared]
    places = await directory(practice)
    by_source = await records.source_records(KIND, {p.source_id for p in valid if p.source_id})
    plans: list[AppointmentPlan] = []
    wanted: dict[int, tuple[Prepared, Patient, datetime, int, Provider, Location]] = {}
    for item in prepared:
        if item.reason:
            plans.append(_refused(item, item.reason))
            continue
        try:
            patient = records.patient_for(item.values.get('chart_number', '').strip(), by_chart)
            provider = places.provider(item.values.get('provider', ''))
            location = places.location(item.values.get('location', ''))
            start, minutes = _start_and_minutes(item, practice.time_zone)
        except DomainError as error:
            plans.append(_refused(item, str(error)))
            continue
        plans.append(AppointmentPlan(item.row_number, Action.CREATE, item.values, patient=patient))
        plans[-1].source_id = item.source_id
        wanted[len(plans) - 1] = (item, patient, start, minutes, provider, location)
    on_file = await _on_file(wanted, by_source)
    for index, (item, patient, start, minutes, provider, location) in wanted.items():
        _decide(plans[index], on_file.get(index), item, patient, start, minutes, provider, location, now)
    earlier: list[AppointmentPlan] = []  # this chunk's visits, not yet on file when the next row is planned
    moved = {row.appointment.id for row in plans if row.action == Action.UPDATE and row.appointment is not None}
    for row in plans:
        if row.action in (Action.CREATE, Action.UPDATE) and row.appointment is not None:
            await _note_overlaps(row, practice, now, earlier, moved)
            earlier.append(row)
    return plans


def _refused(item: Prepared, reason: str) -> AppointmentPlan:
    return AppointmentPlan(item.row_number, Action.REFUSED, item.values, reason)


async def _on_file(wanted: dict, by_source: dict[str, int]) -> dict[int, Appointment]:
    """plan index -> the appointment on file this row is (two queries for the chunk)."""
    by_id = {}
    ids = [by_source[w[0].source_id] for w in wanted.values() if w[0].source_id in by_source]
    if ids:
        by_id = {a.id: a for a in await Appointment.filter(id__in=ids)}
    natural = [w for w in wanted.values() if not w[0].source_id]
    by_start: dict[tuple[int, datetime], list[Appointment]] = {}
    if natural:
        found = await Appointment.filter(
            patient_id__in=sorted({w[1].id for w in natural}), starts_at__in=sorted({w[2] for w in natural})
        ).order_by('id')
        for appointment in found:
            by_start.setdefault((appointment.patient_id, appointment.starts_at), []).append(appointment)  # type: ignore[attr-defined]
    matched: dict[int, Appointment] = {}
    for index, (item, patient, start, *_rest) in wanted.items():
        if item.source_id:
            if (record_id := by_source.get(item.source_id)) is not None and record_id in by_id:
                matched[index] = by_id[record_id]
            continue
        candidates = by_start.get((patient.id, start), [])
        same = [a for a in candidates if a.status == item.status] or candidates
        if same:
            matched[index] = same[0]
    return matched


def _decide(
    row: AppointmentPlan,
    current: Appointment | None,
    item: Prepared,
    patient: Patient,
    start: datetime,
    minutes: int,
    provider: Provider,
    location: Location,
    now: datetime,
) -> None:
    new_values: dict[str, object] = {
        'starts_at': start,
        'duration_minutes': minutes,
        'provider_id': provider.id,
        'location_id': location.id,
        'visit_type': item.visit_type,
        'reason': item.note,
        'status': item.status,
        'cancel_reason': item.cancel_reason if item.status == AppointmentStatus.CANCELLED else '',
    }
    remind = item.status == AppointmentStatus.BOOKED and start > now
    if current is None:
        row.appointment = Appointment(patient_id=patient.id, **new_values, reminder_for=None if remind else start)
        return
    if current.patient_id != patient.id:  # type: ignore[attr-defined]
        row.action, row.reason = Action.REFUSED, 'This appointment id belongs to another patient on file.'
        row.patient = None
        return
    before = {name: getattr(current, name) for name in new_values}
    row.changed = [name for name, value in new_values.items() if before[name] != value]
    row.appointment = current
    if not row.changed:
        row.action = Action.UNCHANGED
        return
    if current.status != AppointmentStatus.BOOKED:
        status = str(current.status.value if hasattr(current.status, 'value') else current.status).replace('_', '-')
        row.action, row.changed, row.patient = Action.REFUSED, [], None
        row.reason = f'This visit is {status} on file: a visit no longer booked is history, and an import leaves it.'
        return
    row.action, row.fields_before = Action.UPDATE, before
    for name, value in new_values.items():
        setattr(current, name, value)
    if 'starts_at' in row.changed or item.status != AppointmentStatus.BOOKED:
        row.withdraw = True
        current.reminder_for = None if remind else start


async def _note_overlaps(
    row: AppointmentPlan, practice: Practice, now: datetime, earlier: list[AppointmentPlan], moved: set[int]
) -> None:
    """A booked future visit that shares a minute with another of its provider's (on file, or an earlier row of
    this chunk) is imported all the same, with a note naming the other visit."""
    visit = row.appointment
    assert visit is not None
    if visit.status != AppointmentStatus.BOOKED or visit.starts_at <= now:
        return  # history: the old system's overlaps are not news
    end = visit.starts_at + timedelta(minutes=visit.duration_minutes)
    on_file = await appointments.overlaps(
        visit.provider_id,  # type: ignore[attr-defined]
        visit.starts_at,
        visit.duration_minutes,
        exclude_id=visit.id if visit.id else None,
    )
    zone = practice.time_zone
    clashes = [
        f'{a.patient.full_name} {_span(a, zone)}' for a in on_file if a.id not in moved
    ]  # a visit this chunk moves is compared where it goes, below
    for other in earlier:
        theirs = other.appointment
        assert theirs is not None
        if (
            theirs is not visit
            and theirs.status == AppointmentStatus.BOOKED
            and theirs.provider_id == visit.provider_id  # type: ignore[attr-defined]
            and theirs.starts_at < end
            and visit.starts_at < theirs.starts_at + timedelta(minutes=theirs.duration_minutes)
        ):
            clashes.append(f'{other.name} {_span(theirs, zone)} (row {other.row_number})')
    if clashes:
        listed = '; '.join(clashes)
        row.reason = f'Imported as booked in the previous system, though the provider also has {listed} then.'


def _span(visit: Appointment, zone: str) -> str:
    """'9:00 AM–10:00 AM' on the practice's clock."""
    end = visit.starts_at + timedelta(minutes=visit.duration_minutes)
    return f'{format_clock(visit.starts_at, zone)}–{format_clock(end, zone)}'


async def apply(plans: list[AppointmentPlan], practice: Practice, actor: audit.Actor, stamp: datetime) -> None:
    """Write the planned creates and updates with their audit rows and source ids. Call inside the chunk's
    transaction; `after_commit` after it commits. Nothing is emailed (see the module's docstring)."""
    del practice, stamp  # the chunk's practice and time: rows carry their own
    audit_rows: list[AuditEvent] = []
    identifiers = []
    for row in plans:
        appointment = row.appointment
        if row.action == Action.CREATE and appointment is not None:
            await appointment.save()
            detail = {'row': row.row_number, 'starts_at': appointment.starts_at.isoformat()}
            detail['status'] = appointment.status
            audit_rows.append(_audit('appointment.imported', actor, appointment, detail))
            if row.source_id:
                identifiers.append(records.source_identifier(KIND, row.source_id, appointment.id))
        elif row.action == Action.UPDATE and appointment is not None:
            updated = await Appointment.filter(id=appointment.id, status=AppointmentStatus.BOOKED).update(
                **{name: getattr(appointment, name) for name in (*row.changed, 'reminder_for')}
            )
            if not updated:
                raise appointments.AppointmentNotBooked()  # closed meanwhile: the chunk retries row by row
            if row.withdraw:
                await appointments.withdraw_reminder(appointment)
            detail = {'row': row.row_number, 'fields': row.changed}
            audit_rows.append(_audit('appointment.updated', actor, appointment, detail))
    if audit_rows:
        await AuditEvent.bulk_create(audit_rows)
    if identifiers:
        await ExternalIdentifier.bulk_create(identifiers)


def _audit(action: str, actor: audit.Actor, appointment: Appointment, detail: dict) -> AuditEvent:
    return AuditEvent(
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        client_address=actor.client_address,
        patient_id=appointment.patient_id,  # type: ignore[attr-defined]
        object_type='appointment',
        object_id=appointment.id,
        detail={k: (v.value if hasattr(v, 'value') else v) for k, v in detail.items()},
    )


async def after_commit(plans: list[AppointmentPlan]) -> None:
    """After the chunk commits: each touched patient's open Appointments tab refreshes."""
    written = {row.patient.id for row in plans if row.patient and row.action in (Action.CREATE, Action.UPDATE)}
    for patient_id in sorted(written):
        await events.publish(patient_id, events.APPOINTMENTS)
