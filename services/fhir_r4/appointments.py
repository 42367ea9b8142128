"""Appointment <-> our appointment (services.appointments: booking, rescheduling, cancelling, outcomes).

Status both ways: booked <-> booked, cancelled <-> cancelled, completed <-> fulfilled, no_show <-> noshow;
other FHIR statuses (proposed, pending, arrived, ...) have no counterpart here and are refused. The
practice's system is the source of truth for its schedule, so an overlap with another visit of the
provider is accepted (the console asks first; an interface cannot answer). A future booked visit gets
the patient's confirmation email as a console booking does; one recorded after the fact does not.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from models.appointment import Appointment, AppointmentStatus, VisitType
from models.patient import Patient
from portal.ids import parse_id
from services import appointments, audit
from services.appointments import Slot, local_time
from services.errors import DomainError, NotFound
from services.fhir_r4.common import (
    BASE,
    FhirProblem,
    Warnings,
    identifier_pairs,
    identifiers_of,
    ids_for_identifier,
    matched_record,
    parse,
    read_record,
    reference_id,
    remember_identifiers,
)

RESOURCE_TYPE = 'Appointment'
VISIT_TYPE_SYSTEM = BASE + '/CodeSystem/visit-type'
KNOWN_EXTENSIONS: set[str] = set()
STATUS_TO_FHIR = {
    AppointmentStatus.BOOKED: 'booked',
    AppointmentStatus.CANCELLED: 'cancelled',
    AppointmentStatus.COMPLETED: 'fulfilled',
    AppointmentStatus.NO_SHOW: 'noshow',
}
FHIR_TO_STATUS = {fhir: ours for ours, fhir in STATUS_TO_FHIR.items()}
DEFAULT_CANCEL_REASON = "Cancelled in the practice's scheduling system."
STORED = {
    'resourceType', 'id', 'meta', 'text', 'identifier', 'status', 'cancelationReason', 'appointmentType',
    'description', 'start', 'end', 'minutesDuration', 'participant', 'extension',
}  # fmt: skip


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace('+00:00', 'Z')


def to_fhir(appointment: Appointment, identifiers: list[dict[str, str]]) -> dict[str, Any]:
    resource: dict[str, Any] = {'resourceType': RESOURCE_TYPE, 'id': str(appointment.id)}
    if identifiers:
        resource['identifier'] = identifiers
    resource['status'] = STATUS_TO_FHIR[AppointmentStatus(appointment.status)]
    if appointment.cancel_reason:
        resource['cancelationReason'] = {'text': appointment.cancel_reason}
    visit = VisitType(appointment.visit_type)
    resource['appointmentType'] = {
        'coding': [{'system': VISIT_TYPE_SYSTEM, 'code': visit.value, 'display': visit.label}]
    }
    if appointment.reason:
        resource['description'] = appointment.reason
    resource['start'] = _instant(appointment.starts_at)
    resource['end'] = _instant(appointment.starts_at + timedelta(minutes=appointment.duration_minutes))
    resource['minutesDuration'] = appointment.duration_minutes
    participants = [{'actor': {'reference': f'Patient/{appointment.patient_id}'}, 'status': 'accepted'}]  # type: ignore[attr-defined]
    if appointment.provider_id is not None:  # type: ignore[attr-defined]
        participants.append({'actor': {'reference': f'Practitioner/{appointment.provider_id}'}, 'status': 'accepted'})  # type: ignore[attr-defined]
    if appointment.location_id is not None:  # type: ignore[attr-defined]
        participants.append({'actor': {'reference': f'Location/{appointment.location_id}'}, 'status': 'accepted'})  # type: ignore[attr-defined]
    resource['participant'] = participants
    return resource


async def read(appointment_id: int) -> dict[str, Any]:
    return await read_record(RESOURCE_TYPE, await Appointment.get_or_none(id=appointment_id), 'appointment', to_fhir)


def _date_filter(text: str) -> dict[str, datetime]:
    prefixes = {'eq': '', 'ge': '__gte', 'le': '__lt', 'gt': '__gte', 'lt': '__lt'}
    prefix, value = (text[:2], text[2:]) if text[:2] in prefixes else ('eq', text)
    try:
        day = datetime.fromisoformat(value[:10]).replace(tzinfo=UTC)
    except ValueError:
        raise FhirProblem(400, 'date must be a date, such as ge2025-01-01.', 'date') from None
    if prefix == 'eq':
        return {'starts_at__gte': day, 'starts_at__lt': day + timedelta(days=1)}
    if prefix in ('le', 'gt'):
        day += timedelta(days=1)  # le 2025-01-01: before the 2nd; gt 2025-01-01: from the 2nd
    return {f'starts_at{prefixes[prefix]}': day}


async def search(params: dict[str, str], limit: int) -> list[dict[str, Any]]:
    query = Appointment.all()
    if 'patient' in params:
        query = query.filter(patient_id=parse_id(params['patient'].rpartition('/')[2]) or 0)
    if 'identifier' in params:
        query = query.filter(id__in=await ids_for_identifier(RESOURCE_TYPE, params['identifier']))
    if '_id' in params:
        query = query.filter(id=parse_id(params['_id']) or 0)
    if 'status' in params:
        query = query.filter(status__in=[FHIR_TO_STATUS[s] for s in params['status'].split(',') if s in FHIR_TO_STATUS])
    if 'date' in params:
        query = query.filter(**_date_filter(params['date']))
    rows = await query.order_by('starts_at', 'id').limit(limit)
    found = await identifiers_of(RESOURCE_TYPE, [a.id for a in rows])
    return [to_fhir(a, found.get(a.id, [])) for a in rows]


def _aware(moment: datetime | None, element: str) -> datetime:
    if moment is None:
        raise FhirProblem(422, f'{element} is required: the schedule needs the time.', element, 'required')
    if moment.tzinfo is None:
        raise FhirProblem(422, f'{element} needs a time zone offset.', element)
    return moment.astimezone(UTC)


def _parts(model: Any, resolved: dict[str, str], warnings: Warnings) -> dict[str, Any]:
    status = FHIR_TO_STATUS.get(model.status or '')
    if status is None:
        raise FhirProblem(
            422,
            f'Appointment.status {model.status!r} has no counterpart here (booked, cancelled, fulfilled, noshow).',
            'Appointment.status',
        )
    ids: dict[str, int] = {}
    for index, participant in enumerate(model.participant or []):
        text = (participant.actor.reference or '') if participant.actor else ''
        text = resolved.get(text, text)
        kind = text.rpartition('/')[0].rsplit('/', 1)[-1]
        if kind in ('Patient', 'Practitioner', 'Location') and kind not in ids:
            ids[kind] = reference_id(participant.actor, kind, f'Appointment.participant[{index}].actor', resolved)
        else:
            warnings.add(f'Appointment.participant[{index}]', 'This participant is not stored.')
    for kind in ('Patient', 'Practitioner', 'Location'):
        if kind not in ids:
            raise FhirProblem(
                422, f'Appointment.participant needs a {kind} (patient, provider and location).',
                'Appointment.participant', 'required',
            )  # fmt: skip
    start = _aware(model.start, 'Appointment.start')
    if model.minutesDuration:
        minutes = int(model.minutesDuration)
    elif model.end is not None:
        minutes = int((_aware(model.end, 'Appointment.end') - start).total_seconds() // 60)
    else:
        raise FhirProblem(422, 'Appointment.end or minutesDuration is required.', 'Appointment.end', 'required')
    visit = VisitType.OTHER
    codes = [c.code for c in (model.appointmentType.coding or [])] if model.appointmentType else []
    known = [code for code in codes if code in {v.value for v in VisitType}]
    if known:
        visit = VisitType(known[0])
    else:
        warnings.add('Appointment.appointmentType', f'No visit type of {VISIT_TYPE_SYSTEM}: recorded as other.')
    for element in sorted(set(model.model_dump(exclude_none=True, by_alias=True)) - STORED):
        warnings.add(f'Appointment.{element}', f'Appointment.{element} is not stored by this server.')
    reason = (model.cancelationReason.text if model.cancelationReason else '') or ''
    return {
        'status': status,
        'patient_id': ids['Patient'],
        'provider_id': ids['Practitioner'],
        'location_id': ids['Location'],
        'start': start,
        'minutes': minutes,
        'visit': visit,
        'note': model.description or '',
        'cancel_reason': reason or DEFAULT_CANCEL_REASON,
    }


async def write(
    body: Any, actor: audit.Actor, record_id: int | None, warnings: Warnings, resolved: dict[str, str]
) -> tuple[int, bool]:
    model = parse(RESOURCE_TYPE, body, KNOWN_EXTENSIONS, warnings)
    pairs = identifier_pairs(model.identifier, 'Appointment.identifier')
    parts = _parts(model, resolved, warnings)
    patient = await Patient.get_or_none(id=parts['patient_id']).select_related('practice')
    if patient is None:
        raise FhirProblem(422, f'Patient/{parts["patient_id"]} does not exist.', 'Appointment.participant')
    local = local_time(parts['start'], patient.practice.time_zone)
    slot = Slot(
        provider_id=parts['provider_id'],
        location_id=parts['location_id'],
        day=local.date(),
        start=local.time(),
        duration_minutes=parts['minutes'],
        visit_type=parts['visit'],
        note=parts['note'],
    )
    status: AppointmentStatus = parts['status']
    if record_id is None:
        record_id = await matched_record(RESOURCE_TYPE, pairs)
    try:
        if record_id is None:
            upcoming = parts['start'] > datetime.now(UTC)
            appointment = await appointments.book(
                patient.id, slot, actor, confirm_overlap=True, notify=status == AppointmentStatus.BOOKED and upcoming
            )
            created = True
            await _finish(appointment.id, status, parts, actor)
        else:
            appointment = await appointments.get_appointment(record_id)
            if appointment.patient_id != patient.id:  # type: ignore[attr-defined]
                raise FhirProblem(
                    409, f'Appointment/{record_id} belongs to another patient.', 'Appointment.participant', 'conflict'
                )
            created = False
            await _update(appointment, slot, status, parts, actor)
    except (FhirProblem, NotFound):
        raise
    except DomainError as error:
        raise FhirProblem(422, str(error), _element_of(str(error))) from None
    await remember_identifiers(RESOURCE_TYPE, appointment.id, pairs)
    return appointment.id, created


async def _finish(appointment_id: int, status: AppointmentStatus, parts: dict[str, Any], actor: audit.Actor) -> None:
    if status == AppointmentStatus.CANCELLED:
        await appointments.cancel(appointment_id, parts['cancel_reason'], actor)
    elif status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        await appointments.set_outcome(appointment_id, status, actor)


async def _update(
    appointment: Appointment, slot: Slot, status: AppointmentStatus, parts: dict[str, Any], actor: audit.Actor
) -> None:
    same_slot = (
        appointment.starts_at == parts['start']
        and appointment.duration_minutes == slot.duration_minutes
        and appointment.provider_id == slot.provider_id  # type: ignore[attr-defined]
        and appointment.location_id == slot.location_id  # type: ignore[attr-defined]
        and appointment.visit_type == slot.visit_type
        and appointment.reason == ' '.join(slot.note.split())[:200]
    )
    if appointment.status == AppointmentStatus.BOOKED:
        if not same_slot:
            await appointments.reschedule(appointment.id, slot, actor, confirm_overlap=True)
        await _finish(appointment.id, status, parts, actor)
        return
    if appointment.status == status and same_slot:
        return  # re-sent unchanged
    raise FhirProblem(409, str(appointments.AppointmentNotBooked()), 'Appointment.status', 'conflict')


def _element_of(message: str) -> str:
    lowered = message.lower()
    for words, element in (
        (('duration',), 'Appointment.minutesDuration'),
        (('provider', 'location'), 'Appointment.participant'),
        (('reason',), 'Appointment.cancelationReason'),
        (('visit type',), 'Appointment.appointmentType'),
    ):
        if any(word in lowered for word in words):
            return element
    return RESOURCE_TYPE


async def patient_of(record_id: int) -> int | None:
    row = await Appointment.filter(id=record_id).values_list('patient_id', flat=True)
    return row[0] if row else None
