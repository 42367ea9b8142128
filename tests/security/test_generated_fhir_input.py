"""Generated bad input through the FHIR write path: a Patient, VisionPrescription, Appointment or Invoice
carrying generated strings (control characters, NUL, lone surrogates, which JSON can carry, RTL marks, 100 KB)
is stored exactly, as the console's rules tidy it, or refused with a 4xx OperationOutcome naming the element,
with nothing written. Through the app too: forged ids, search parameters and bodies never answer 500."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import example, given

from api import fhir
from models.api_client import ExternalIdentifier
from models.appointment import Appointment
from models.audit import AuditEvent
from models.billing import Invoice, InvoiceLine
from models.patient import Patient
from models.prescription import Prescription, PrescriptionEye
from services import api_clients, audit
from services.fhir_r4 import appointments as fhir_appointments
from services.fhir_r4 import invoices as fhir_invoices
from services.fhir_r4 import resources, vision
from services.fhir_r4.common import FhirProblem, Warnings
from tests import factories
from tests.security.generated import FEW, HUGE, TYPED, UNSTORABLE, counts, one_line

ACTOR = audit.Actor.api_client(1, 'Main EHR')
FHIR = '/fhir/R4'


async def _write(resource_type: str, body: dict, *models: type) -> int | None:
    """The new record's id, or None when refused with a 4xx naming an element and nothing written."""
    before = await counts(*models, ExternalIdentifier)
    try:
        new_id, _ = await resources.write(resource_type, body, ACTOR, None, Warnings(), {})
    except FhirProblem as refused:
        assert 400 <= refused.status < 500 and refused.diagnostics.strip()
        # the element: a path in the resource, or the URL of the extension this server defines for it
        assert refused.expression.startswith((resource_type, 'https://')), refused
        assert len(refused.diagnostics) < 1_000
        assert await counts(*models, ExternalIdentifier) == before
        return None
    return new_id


async def _ready() -> tuple[int, int, int]:
    """A patient, provider and location to point at (made on the first example)."""
    from models.practice import Location, Provider

    if not await Provider.exists():
        await factories.make_ready_practice()
        await factories.make_active_patient()
    return (await Patient.first()).id, (await Provider.first()).id, (await Location.first()).id


def _patient(given: str, family: str, email: str, phone: str, address: str, identifier: str) -> dict:
    return {
        'resourceType': 'Patient',
        'identifier': [{'system': 'urn:oid:1.2.3.4.5', 'value': identifier}],
        'name': [{'use': 'official', 'family': family, 'given': [given]}],
        'birthDate': '1980-05-17',
        'telecom': [{'system': 'email', 'value': email}, {'system': 'phone', 'value': phone}],
        'address': [{'text': address}],
    }


@FEW
@given(name=TYPED, contact=TYPED, identifier=TYPED)
@example(name=HUGE, contact='', identifier='EHR-1')
@example(name='Zoë\x00', contact='', identifier='EHR-1')
@example(name='\ud800', contact='', identifier='EHR-1')
@example(name='Jamie', contact='jamie@example.org\x00', identifier='EHR-1')
@example(name='Jamie', contact='', identifier='EHR-\x00')
@example(name='Jamie', contact='', identifier=HUGE)
@example(name='\u200fמרים\u200f', contact='<b>1 Main St</b>', identifier='EHR-2')
async def test_a_fhir_patient_is_stored_exactly_or_refused_naming_the_element(
    db, name: str, contact: str, identifier: str
):
    await _ready()
    email = contact if '@' in contact else ''
    body = _patient(name, 'Rivera', email, '', contact, identifier or 'EHR-1')
    new_id = await _write('Patient', body, Patient, AuditEvent)
    if new_id is not None:
        stored = await Patient.get(id=new_id)
        assert stored.first_name == one_line(name) and stored.address == one_line(contact)
        kept = await ExternalIdentifier.get(resource_type='Patient', object_id=new_id)
        assert kept.value == (identifier or 'EHR-1').strip()


def _contact_lens(patient_id: int, provider_id: int, brand: str, notes: str) -> dict:
    written = (factories.today() - timedelta(days=3)).isoformat()
    lens = {
        'product': {'coding': [{'system': vision.PRODUCT_SYSTEM, 'code': 'contact'}]},
        'power': -2.5,
        'backCurve': 8.6,
        'diameter': 14.2,
        'brand': brand,
        'duration': {'value': 1, 'unit': 'day', 'system': 'http://unitsofmeasure.org', 'code': 'd'},
        'extension': [{'url': vision.MANUFACTURER, 'valueString': 'Acme Vision'}],
    }
    return {
        'resourceType': 'VisionPrescription',
        'status': 'active',
        'created': written,
        'dateWritten': written,
        'patient': {'reference': f'Patient/{patient_id}'},
        'prescriber': {'reference': f'Practitioner/{provider_id}'},
        'extension': [{'url': vision.NOTES, 'valueString': notes}],
        'lensSpecification': [{**lens, 'eye': 'right'}, {**lens, 'eye': 'left'}],
    }


@FEW
@given(brand=TYPED, notes=TYPED)
@example(brand=HUGE, notes='')
@example(brand='Acuvue\x00', notes='')
@example(brand='Acuvue', notes='daily wear\x1b[31m')
@example(brand='Acuvue', notes=HUGE)
async def test_a_fhir_prescription_is_stored_exactly_or_refused_naming_the_element(db, brand: str, notes: str):
    patient_id, provider_id, _ = await _ready()
    body = _contact_lens(patient_id, provider_id, brand or 'Acuvue', notes)
    new_id = await _write('VisionPrescription', body, Prescription, PrescriptionEye, AuditEvent)
    if new_id is not None:
        eyes = await PrescriptionEye.filter(prescription_id=new_id)
        assert {eye.brand for eye in eyes} == {one_line(brand or 'Acuvue')}


@FEW
@given(description=TYPED)
@example(description=HUGE)
@example(description='Annual exam\x00')
async def test_a_fhir_appointment_is_stored_exactly_or_refused_naming_the_element(db, description: str):
    patient_id, provider_id, location_id = await _ready()
    start = (datetime.now(UTC) + timedelta(days=20)).replace(hour=15, minute=0, second=0, microsecond=0)
    body = {
        'resourceType': 'Appointment',
        'status': 'booked',
        'appointmentType': {'coding': [{'system': fhir_appointments.VISIT_TYPE_SYSTEM, 'code': 'eye_exam'}]},
        'description': description,
        'start': start.isoformat(),
        'minutesDuration': 30,
        'participant': [
            {'actor': {'reference': f'Patient/{patient_id}'}, 'status': 'accepted'},
            {'actor': {'reference': f'Practitioner/{provider_id}'}, 'status': 'accepted'},
            {'actor': {'reference': f'Location/{location_id}'}, 'status': 'accepted'},
        ],
    }
    await Appointment.all().delete()  # each example books the same slot
    new_id = await _write('Appointment', body, Appointment)
    if new_id is not None:
        assert (await Appointment.get(id=new_id)).reason == one_line(description)


@FEW
@given(description=TYPED, reason=TYPED)
@example(description=HUGE, reason='Loyalty')
@example(description='Frames\x00', reason='Loyalty')
@example(description='Frames', reason='Loyalty\x00')
async def test_a_fhir_invoice_is_stored_exactly_or_refused_naming_the_element(db, description: str, reason: str):
    patient_id, _, _ = await _ready()
    money = {'value': 10, 'currency': 'USD'}
    body = {
        'resourceType': 'Invoice',
        'status': 'issued',
        'subject': {'reference': f'Patient/{patient_id}'},
        'date': (factories.today() - timedelta(days=5)).isoformat(),
        'extension': [
            {
                'url': fhir_invoices.ADJUSTMENT,
                'extension': [
                    {'url': 'kind', 'valueCode': 'discount'},
                    {'url': 'amount', 'valueMoney': money},
                    {'url': 'reason', 'valueString': reason},
                ],
            }
        ],
        'lineItem': [
            {
                'sequence': 1,
                'chargeItemCodeableConcept': {'text': description},
                'priceComponent': [{'type': 'base', 'amount': {'value': 120, 'currency': 'USD'}}],
            }
        ],
    }
    new_id = await _write('Invoice', body, Invoice, InvoiceLine, AuditEvent)
    if new_id is not None:
        assert (await InvoiceLine.get(invoice_id=new_id)).description == one_line(description)


async def test_forged_text_in_fhir_requests_never_answers_a_server_error(db):
    """The API's own router on a bare app (the portal's middleware adds nothing the API answers with)."""
    await factories.make_ready_practice()
    staff = await factories.make_staff()
    new = await api_clients.create_client('Main EHR', 'system/*.read system/*.write', audit.Actor.staff(staff))
    headers = {'Authorization': f'Bearer {new.token}', 'Content-Type': 'application/fhir+json'}
    app = FastAPI()
    app.include_router(fhir.router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url='http://portal.test') as client:
        await _forge(client, headers)
    assert not await Patient.exists()  # every forged name was refused


async def _forge(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    asked = []
    for typed in [*UNSTORABLE, HUGE[:5_000]]:
        escaped = json.dumps(typed)  # JSON carries NUL and lone surrogates as \u escapes
        body = json.dumps(_patient('Jamie', 'Rivera', '', '', '', 'EHR-1')).replace('"Jamie"', escaped)
        in_url = quote(typed[:200], safe='', errors='surrogatepass')  # a lone surrogate arrives as bad UTF-8
        asked += [
            await client.post(f'{FHIR}/Patient', content=body, headers=headers),
            await client.get(f'{FHIR}/Patient?identifier={in_url}', headers=headers),
            await client.get(f'{FHIR}/Patient?name={in_url}&family={in_url}', headers=headers),
            await client.get(f'{FHIR}/Patient/{in_url}', headers=headers),
            await client.get(f'{FHIR}/{in_url}', headers=headers),
        ]
    for response in asked:
        assert response.status_code < 500, (response.request.url, response.text[:300])
        assert response.json()['resourceType'] in ('OperationOutcome', 'Bundle', 'Patient')


@pytest.mark.parametrize('typed', ['EHR\x00', 'EHR\x1b'])
async def test_an_unstorable_identifier_is_refused_before_anything_is_written(db, typed: str):
    await _ready()
    assert await _write('Patient', _patient('Jamie', 'Rivera', '', '', '', typed), Patient) is None
