"""Appointment <-> our appointment: status both ways, booked through the console's service (its email and
the patient's open tab), outcomes and cancellations, re-sends, and the values that cannot be mapped."""

from datetime import UTC, datetime, timedelta

import pytest

from models.appointment import Appointment, AppointmentStatus
from models.outbox import OutboxMessage
from services import audit, events
from services.fhir_r4 import appointments, resources
from services.fhir_r4.common import FhirProblem, Warnings
from tests import factories

ACTOR = audit.Actor.api_client(1, 'Main EHR')


async def setup() -> tuple[int, int, int]:
    practice = await factories.make_ready_practice()
    patient = await factories.make_active_patient()
    provider = await factories.make_provider(practice, name='Alex Morgan')
    location = await factories.make_location(practice, name='Harbor office')
    return patient.id, provider.id, location.id


def visit(patient_id: int, provider_id: int, location_id: int, start: datetime, **fields: object) -> dict:
    return {
        'resourceType': 'Appointment',
        'identifier': [{'system': 'urn:ehr:appt', 'value': 'A-1'}],
        'status': 'booked',
        'appointmentType': {'coding': [{'system': appointments.VISIT_TYPE_SYSTEM, 'code': 'eye_exam'}]},
        'description': 'Annual exam',
        'start': start.isoformat(),
        'minutesDuration': 30,
        'participant': [
            {'actor': {'reference': f'Patient/{patient_id}'}, 'status': 'accepted'},
            {'actor': {'reference': f'Practitioner/{provider_id}'}, 'status': 'accepted'},
            {'actor': {'reference': f'Location/{location_id}'}, 'status': 'accepted'},
        ],
        **fields,
    }


def in_days(days: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(hour=15, minute=0, second=0, microsecond=0)


async def write(body: dict) -> tuple[int, bool, Warnings]:
    warnings = Warnings()
    new_id, created = await resources.write('Appointment', body, ACTOR, None, warnings, {})
    return new_id, created, warnings


@pytest.mark.parametrize(
    ('ours', 'theirs'),
    [(AppointmentStatus.BOOKED, 'booked'), (AppointmentStatus.CANCELLED, 'cancelled'),
     (AppointmentStatus.COMPLETED, 'fulfilled'), (AppointmentStatus.NO_SHOW, 'noshow')],
)  # fmt: skip
def test_the_status_mapping_is_one_to_one(ours, theirs):
    assert appointments.STATUS_TO_FHIR[ours] == theirs and appointments.FHIR_TO_STATUS[theirs] == ours


async def test_our_appointment_maps_to_fhir(db):
    patient = await factories.make_patient()
    appointment = await factories.make_appointment(patient)
    resource = await resources.read('Appointment', appointment.id)
    assert resource['status'] == 'booked' and resource['minutesDuration'] == appointment.duration_minutes
    assert resource['participant'][0]['actor'] == {'reference': f'Patient/{patient.id}'}
    assert datetime.fromisoformat(resource['start']) == appointment.starts_at


async def test_a_booked_visit_is_booked_like_the_console_books_it(db):
    patient_id, provider_id, location_id = await setup()
    heard: list[str] = []

    async def handler(event: events.Event) -> None:
        heard.append(event.topic)

    unsubscribe = events.subscribe(patient_id, handler)
    appointment_id, created, warnings = await write(visit(patient_id, provider_id, location_id, in_days(10)))
    unsubscribe()
    assert created and not warnings.items
    stored = await Appointment.get(id=appointment_id)
    assert (stored.status, stored.provider_id, stored.location_id, stored.reason) == (
        'booked', provider_id, location_id, 'Annual exam'
    )  # fmt: skip
    assert stored.starts_at == in_days(10)
    assert await OutboxMessage.exists(patient_id=patient_id, purpose='appointment')
    assert events.APPOINTMENTS in heard


async def test_moving_cancelling_and_resending_a_visit(db):
    patient_id, provider_id, location_id = await setup()
    body = visit(patient_id, provider_id, location_id, in_days(10))
    appointment_id, _, _ = await write(body)
    again, created, _ = await write(body)  # re-sent unchanged: same visit, nothing new
    assert (again, created) == (appointment_id, False) and await Appointment.all().count() == 1

    moved = {**body, 'start': in_days(11).isoformat()}
    await write(moved)
    assert (await Appointment.get(id=appointment_id)).starts_at == in_days(11)

    await write({**moved, 'status': 'cancelled', 'cancelationReason': {'text': 'Patient is travelling'}})
    stored = await Appointment.get(id=appointment_id)
    assert (stored.status, stored.cancel_reason) == ('cancelled', 'Patient is travelling')
    with pytest.raises(FhirProblem) as caught:
        await write({**moved, 'status': 'booked'})
    assert caught.value.status == 409


async def test_a_past_visit_recorded_as_fulfilled_sends_no_email(db):
    patient_id, provider_id, location_id = await setup()
    appointment_id, _, _ = await write(visit(patient_id, provider_id, location_id, in_days(-20), status='fulfilled'))
    assert (await Appointment.get(id=appointment_id)).status == 'completed'
    assert not await OutboxMessage.exists(patient_id=patient_id)


@pytest.mark.parametrize(
    ('change', 'element'),
    [
        ({'status': 'arrived'}, 'Appointment.status'),
        ({'minutesDuration': 2}, 'Appointment.minutesDuration'),
        ({'start': '2026-01-01T10:00:00'}, 'Appointment.start'),
        ({'participant': [{'actor': {'reference': 'Patient/1'}, 'status': 'accepted'}]}, 'Appointment.participant'),
        ({'modifierExtension': [{'url': 'http://x/m', 'valueBoolean': True}]}, 'Appointment.modifierExtension'),
    ],
)
async def test_what_cannot_be_mapped_is_refused_naming_the_element(db, change, element):
    patient_id, provider_id, location_id = await setup()
    with pytest.raises(FhirProblem) as caught:
        await write({**visit(patient_id, provider_id, location_id, in_days(3)), **change})
    assert caught.value.expression == element and 400 <= caught.value.status < 500
    assert not await Appointment.exists()
