"""VisionPrescription <-> our per-eye Rx, both ways, under the console's rules; transaction Bundles; and the
round trip: a patient's records exported as a Bundle, imported into an empty database, exported again."""

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from models.audit import AuditEvent
from models.patient import Patient
from models.practice import Location
from models.prescription import Prescription, RxStatus
from services import audit, events, prescriptions
from services.fhir_r4 import bundle, resources, vision
from services.fhir_r4.common import FhirProblem, Warnings
from services.invoices import AdjustmentDraft, LineDraft
from tests import factories
from tests.databases import service_context

ACTOR = audit.Actor.api_client(1, 'Main EHR')
PRODUCT = vision.PRODUCT_SYSTEM


def eye(side: str, **values: object) -> dict:
    return {'product': {'coding': [{'system': PRODUCT, 'code': 'lens'}]}, 'eye': side, **values}


def contact(side: str, **values: object) -> dict:
    return {
        'product': {'coding': [{'system': PRODUCT, 'code': 'contact'}]},
        'eye': side,
        'power': -2.5,
        'backCurve': 8.6,
        'diameter': 14.2,
        'brand': 'AcmeDaily',
        'duration': {'value': 1, 'unit': 'day', 'system': 'http://unitsofmeasure.org', 'code': 'd'},
        'extension': [{'url': vision.MANUFACTURER, 'valueString': 'Acme Vision'}],
        **values,
    }


def spectacle_rx(patient_id: int, provider_id: int, **fields: object) -> dict:
    written = (factories.today() - timedelta(days=3)).isoformat()
    return {
        'resourceType': 'VisionPrescription',
        'identifier': [{'system': 'urn:ehr:rx', 'value': 'RX-1'}],
        'status': 'active',
        'created': written,
        'patient': {'reference': f'Patient/{patient_id}'},
        'dateWritten': written,
        'prescriber': {'reference': f'Practitioner/{provider_id}'},
        'extension': [
            {'url': vision.PURPOSE, 'valueCode': 'distance'},
            {'url': vision.PD, 'valueQuantity': {'value': 63, 'unit': 'mm', 'code': 'mm'}},
        ],
        'lensSpecification': [
            eye('right', sphere=-2.25, cylinder=-0.75, axis=90, add=1.5, prism=[{'amount': 1, 'base': 'in'}]),
            eye('left', sphere=-2.0, cylinder=-0.5, axis=85, add=1.5, prism=[{'amount': 0.5, 'base': 'up'}]),
        ],
        **fields,
    }


async def setup() -> tuple[Patient, int]:
    practice = await factories.make_ready_practice()
    patient = await factories.make_active_patient()
    await factories.give_consent(patient)
    provider = await factories.make_provider(practice, npi='1234567893')
    return patient, provider.id


async def write(body: dict, record_id: int | None = None) -> tuple[int, bool, Warnings]:
    warnings = Warnings()
    new_id, created = await resources.write('VisionPrescription', body, ACTOR, record_id, warnings, {})
    return new_id, created, warnings


async def refused(body: dict) -> FhirProblem:
    with pytest.raises(FhirProblem) as caught:
        await write(body)
    assert 400 <= caught.value.status < 500
    return caught.value


async def test_our_rx_maps_to_a_vision_prescription_with_named_extensions(db):
    patient = await factories.make_patient()
    rx = await factories.make_spectacle_rx(patient, pd_binocular=Decimal('63.0'))
    resource = await resources.read('VisionPrescription', rx.id)
    assert resource['status'] == 'active' and resource['patient'] == {'reference': f'Patient/{patient.id}'}
    right, left = resource['lensSpecification']
    assert (right['eye'], right['sphere'], right['cylinder'], right['axis'], right['add']) == (
        'right',
        -2.25,
        -0.75,
        90,
        1.5,
    )
    assert left['prism'] == [{'amount': 1.0, 'base': 'in'}]
    extensions = {e['url']: e for e in resource['extension']}
    assert extensions[vision.EXPIRY]['valueDate'] == rx.expiry_date.isoformat()
    assert extensions[vision.PURPOSE]['valueCode'] == 'distance'
    assert extensions[vision.PD]['valueQuantity']['value'] == 63.0
    assert all(url.startswith('https://eyecare-portal.example/fhir/StructureDefinition/') for url in extensions)


async def test_a_contact_lens_rx_maps_power_brand_manufacturer_and_duration(db):
    patient = await factories.make_patient()
    rx = await factories.make_contact_lens_rx(patient)
    await Prescription.filter(id=rx.id).update(replacement_schedule='daily')
    spec = (await resources.read('VisionPrescription', rx.id))['lensSpecification'][0]
    assert spec['product']['coding'][0]['code'] == 'contact'
    assert (spec['power'], spec['backCurve'], spec['diameter'], spec['brand']) == (-2.5, 8.6, 14.2, 'AcmeDaily 1-Day')
    assert spec['duration']['code'] == 'd'
    assert {'url': vision.MANUFACTURER, 'valueString': 'Acme Vision'} in spec['extension']


@pytest.mark.parametrize(
    ('ours', 'theirs'),
    [(RxStatus.FINAL, 'active'), (RxStatus.DRAFT, 'draft'), (RxStatus.SUPERSEDED, 'cancelled'),
     (RxStatus.VOID, 'entered-in-error')],
)  # fmt: skip
def test_the_status_mapping_is_one_to_one(ours, theirs):
    assert vision.STATUS_TO_FHIR[ours] == theirs and vision.FHIR_TO_STATUS[theirs] == ours


async def test_a_final_rx_written_through_the_api_reaches_the_patient_like_a_signed_one(db):
    patient, provider_id = await setup()
    heard: list[str] = []

    async def handler(event: events.Event) -> None:
        heard.append(event.topic)

    unsubscribe = events.subscribe(patient.id, handler)
    rx_id, created, warnings = await write(spectacle_rx(patient.id, provider_id))
    unsubscribe()
    assert created and not warnings.items
    rx = await Prescription.get(id=rx_id).prefetch_related('eyes')
    assert rx.status == RxStatus.FINAL and rx.signed_at is not None and rx.imported
    assert rx.pd_binocular == Decimal('63.0')
    left = next(e for e in rx.eyes if e.eye == 'OS')
    assert (left.prism_vertical, left.prism_vertical_base) == (Decimal('0.50'), 'BU')
    assert [p.id for p in await prescriptions.prescriptions_for(patient.id)] == [rx_id]
    assert events.PRESCRIPTIONS in heard
    actions = set(await AuditEvent.filter(actor_type='api', object_id=rx_id).values_list('action', flat=True))
    assert {'rx.drafted', 'rx.signed', 'rx.made_available'} <= actions


async def test_a_draft_stays_away_from_the_patient_and_entered_in_error_voids(db):
    patient, provider_id = await setup()
    rx_id, _, _ = await write(spectacle_rx(patient.id, provider_id, status='draft'))
    assert (await Prescription.get(id=rx_id)).status == RxStatus.DRAFT
    assert await prescriptions.prescriptions_for(patient.id) == []
    again, created, _ = await write(spectacle_rx(patient.id, provider_id, status='entered-in-error'))
    assert again == rx_id and not created
    assert (await Prescription.get(id=rx_id)).status == RxStatus.VOID


async def test_a_resent_final_rx_changes_nothing_and_a_changed_one_is_refused(db):
    patient, provider_id = await setup()
    body = spectacle_rx(patient.id, provider_id)
    rx_id, _, _ = await write(body)
    again, created, _ = await write(copy.deepcopy(body))
    assert (again, created) == (rx_id, False) and await Prescription.all().count() == 1
    changed = copy.deepcopy(body)
    changed['lensSpecification'][0]['sphere'] = -3.0
    problem = await refused(changed)
    assert problem.status == 409 and 'can no longer be changed' in problem.diagnostics


async def test_a_contact_lens_rx_shorter_than_a_year_needs_a_reason(db):
    patient, provider_id = await setup()
    written = factories.today() - timedelta(days=3)
    body = spectacle_rx(
        patient.id,
        provider_id,
        extension=[{'url': vision.EXPIRY, 'valueDate': (written + timedelta(days=180)).isoformat()}],
        lensSpecification=[contact('right'), contact('left', power=-2.25)],
    )
    problem = await refused(body)
    assert problem.expression == vision.EXPIRY and 'reason' in problem.diagnostics
    body['extension'].append({'url': vision.EXPIRY_REASON, 'valueString': 'Corneal staining: review in 6 months'})
    rx_id, _, _ = await write(body)
    rx = await Prescription.get(id=rx_id)
    assert rx.kind == 'contact_lens' and rx.replacement_schedule == 'daily' and rx.expiry_reason


@pytest.mark.parametrize(
    ('change', 'element'),
    [
        (lambda b: b['lensSpecification'][1].update(sphere=-2.3), 'VisionPrescription.lensSpecification[1]'),
        (lambda b: b['lensSpecification'][0].update(color='blue'), 'VisionPrescription.lensSpecification[0].color'),
        (lambda b: b['lensSpecification'][0].update(backCurve=8.6),
         'VisionPrescription.lensSpecification[0].backCurve'),
        (lambda b: b['lensSpecification'][0].update(eye='middle'), 'VisionPrescription.lensSpecification[0].eye'),
        (lambda b: b['lensSpecification'][0]['product']['coding'][0].update(code='frame'),
         'VisionPrescription.lensSpecification[0].product'),
        (lambda b: b['lensSpecification'][0].update(axis=200), 'VisionPrescription.lensSpecification[0]'),
        (lambda b: b.update(status='completed'), 'VisionPrescription.status'),
        (lambda b: b.update(prescriber={'reference': 'Practitioner/999'}), 'VisionPrescription.prescriber'),
        (lambda b: b.update(patient={'reference': 'Group/1'}), 'VisionPrescription.patient'),
        (lambda b: b['lensSpecification'][0].update(modifierExtension=[{'url': 'http://x/m', 'valueBoolean': True}]),
         'VisionPrescription.lensSpecification[0].modifierExtension'),
        (lambda b: b.pop('dateWritten'), 'VisionPrescription.dateWritten'),
    ],
)  # fmt: skip
async def test_values_that_cannot_be_mapped_are_refused_naming_the_element(db, change, element):
    patient, provider_id = await setup()
    body = spectacle_rx(patient.id, provider_id)
    change(body)
    problem = await refused(body)
    assert problem.expression == element, problem
    assert not await Prescription.exists()


async def test_unknown_extensions_and_narrative_are_kept_out_with_warnings(db):
    patient, provider_id = await setup()
    body = spectacle_rx(patient.id, provider_id)
    body['text'] = {'status': 'generated', 'div': '<div xmlns="http://www.w3.org/1999/xhtml">Rx</div>'}
    body['lensSpecification'][0]['extension'] = [{'url': 'http://ehr.example/tint', 'valueString': 'grey'}]
    _, created, warnings = await write(body)
    assert created
    where = [w for w, _ in warnings.items]
    assert 'VisionPrescription.text' in where and 'VisionPrescription.lensSpecification[0].extension[0]' in where


async def test_a_failing_entry_rolls_the_whole_transaction_back(db):
    patient, provider_id = await setup()
    ada = {'resourceType': 'Patient', 'name': [{'family': 'Okafor', 'given': ['Ada']}], 'birthDate': '1990-01-02'}
    good = {'fullUrl': 'urn:uuid:p1', 'resource': ada, 'request': {'method': 'POST', 'url': 'Patient'}}
    rx = spectacle_rx(0, provider_id)
    rx['patient'] = {'reference': 'urn:uuid:p1'}
    rx['lensSpecification'][0]['sphere'] = -2.3
    bad = {'fullUrl': 'urn:uuid:rx1', 'resource': rx, 'request': {'method': 'POST', 'url': 'VisionPrescription'}}
    with pytest.raises(FhirProblem) as caught:
        await bundle.transaction({'resourceType': 'Bundle', 'type': 'transaction', 'entry': [bad, good]}, ACTOR,
                                 lambda kind: True)  # fmt: skip
    assert caught.value.diagnostics.startswith('Bundle.entry[0]')
    assert not await Patient.exists(last_name='Okafor') and not await Prescription.exists()

    rx['lensSpecification'][0]['sphere'] = -2.25
    answer = await bundle.transaction(
        {'resourceType': 'Bundle', 'type': 'transaction', 'entry': [bad, good]}, ACTOR, lambda kind: True
    )
    assert answer['type'] == 'transaction-response'
    assert [e['response']['status'] for e in answer['entry']] == ['201 Created', '201 Created']
    ada = await Patient.get(last_name='Okafor')
    assert answer['entry'][1]['response']['location'] == f'Patient/{ada.id}'
    assert await Prescription.filter(patient_id=ada.id).count() == 1


def _renumbered(exported: dict, mapping: dict[str, str]) -> list[dict]:
    """The export's resources with ids dropped and references rewritten to the records they became."""

    def rewrite(value: object) -> object:
        if isinstance(value, dict):
            return {k: (mapping.get(v, v) if k == 'reference' else rewrite(v)) for k, v in value.items() if k != 'id'}
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        return value

    return [rewrite(entry['resource']) for entry in exported['entry']]


async def test_round_trip_export_import_into_an_empty_database_and_export_again(db):
    patient, provider_id = await setup()
    await Patient.filter(id=patient.id).update(
        chart_number='C-1001', address='12 Elm St, Bangor, ME 04401', phone='(207) 555-0134'
    )
    first = spectacle_rx(patient.id, provider_id, identifier=[{'system': 'urn:ehr:rx', 'value': 'RX-OLD'}])
    first['dateWritten'] = first['created'] = (factories.today() - timedelta(days=400)).isoformat()
    first['extension'].append(
        {'url': vision.EXPIRY, 'valueDate': (factories.today() + timedelta(days=300)).isoformat()}
    )
    await write(first)
    await write(spectacle_rx(patient.id, provider_id))  # supersedes the first (same kind and purpose)
    lenses = spectacle_rx(
        patient.id,
        provider_id,
        identifier=[{'system': 'urn:ehr:rx', 'value': 'CL-1'}],
        lensSpecification=[contact('right'), contact('left', power=-2.25)],
        extension=[],
    )
    await write(lenses)
    statuses = sorted(await Prescription.all().values_list('status', flat=True))
    assert statuses == ['final', 'final', 'superseded']
    location = await Location.first()
    for days, status in ((-30, 'fulfilled'), (12, 'booked')):
        start = (datetime.now(UTC) + timedelta(days=days)).replace(hour=14, minute=30, second=0, microsecond=0)
        appointment = {
            'resourceType': 'Appointment',
            'status': status,
            'start': start.isoformat(),
            'minutesDuration': 40,
            'description': 'Contact-lens check',
            'participant': [
                {'actor': {'reference': f'Patient/{patient.id}'}, 'status': 'accepted'},
                {'actor': {'reference': f'Practitioner/{provider_id}'}, 'status': 'accepted'},
                {'actor': {'reference': f'Location/{location.id}'}, 'status': 'accepted'},
            ],
        }
        await resources.write('Appointment', appointment, ACTOR, None, Warnings(), {})
    await factories.make_invoice(
        patient,
        [LineDraft('Exam', 12000), LineDraft('Lenses', 4550, quantity=2, taxable=True)],
        paid_cents=2000,
        provider_id=provider_id,
        insurance_expected_cents=5000,
        adjustments=[AdjustmentDraft('discount', 500, 'Loyalty')],
    )

    exported = await bundle.export_patient(patient.id, 'https://old.example/fhir/R4')
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class('Bundle').model_validate(exported)  # every exported resource is valid R4B
    assert [e['resource']['resourceType'] for e in exported['entry']] == [
        'Practitioner', 'Location', 'Patient', 'VisionPrescription', 'VisionPrescription', 'VisionPrescription',
        'Appointment', 'Appointment', 'Invoice',
    ]  # fmt: skip
    async with service_context(_modules()):  # a second, empty database
        await factories.make_ready_practice()
        answer = await bundle.transaction(copy.deepcopy(exported), ACTOR, lambda kind: True)
        mapping = {}
        for entry, result in zip(exported['entry'], answer['entry'], strict=True):
            resource = entry['resource']
            mapping[f'{resource["resourceType"]}/{resource["id"]}'] = result['response']['location']
        new_patient_id = int(mapping[f'Patient/{patient.id}'].split('/')[1])
        again = await bundle.export_patient(new_patient_id, 'https://new.example/fhir/R4')
        assert await Prescription.filter(status='superseded', superseded_by_id__not_isnull=True).count() == 1
    before = _renumbered(exported, mapping)
    after = _renumbered(again, {})
    for one, two in zip(before, after, strict=True):
        assert one == two


def _modules() -> list[str]:
    from models import MODEL_MODULES

    return MODEL_MODULES
