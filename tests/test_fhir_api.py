"""The FHIR R4 API through the app's HTTP stack: tokens and scopes, OperationOutcomes, Patient, Practitioner
and Location read, search, create and update through the console's services."""

from nicegui.testing import User

from models.audit import AuditEvent
from models.patient import Patient
from models.practice import Location, Provider
from services import api_clients, audit
from tests import factories

FHIR = '/fhir/R4'


async def bearer(scopes: str = 'system/*.read system/*.write') -> dict[str, str]:
    staff = await factories.make_staff()
    new = await api_clients.create_client('Main EHR', scopes, audit.Actor.staff(staff))
    return {'Authorization': f'Bearer {new.token}', 'Content-Type': 'application/fhir+json'}


PATIENT = {
    'resourceType': 'Patient',
    'identifier': [{'system': 'urn:oid:1.2.3.4.5', 'value': 'EHR-77'}],
    'name': [{'use': 'official', 'family': 'Rivera', 'given': ['Jamie']}],
    'birthDate': '1980-05-17',
    'telecom': [{'system': 'email', 'value': 'jamie@example.org'}, {'system': 'phone', 'value': '207-555-0134'}],
}


async def test_without_a_token_the_api_answers_401_with_an_operation_outcome_not_a_redirect(user: User):
    await user.open('/login')
    for path in (f'{FHIR}/Patient', f'{FHIR}/Patient/1', f'{FHIR}/VisionPrescription?patient=1'):
        response = await user.http_client.get(path)
        assert response.status_code == 401, path
        assert response.headers['content-type'].startswith('application/fhir+json')
        assert response.json()['resourceType'] == 'OperationOutcome'
        assert response.headers['www-authenticate'].startswith('Bearer')
    bad = await user.http_client.get(f'{FHIR}/Patient', headers={'Authorization': 'Bearer nope'})
    assert bad.status_code == 401


async def test_a_token_without_the_scope_gets_403(user: User):
    await factories.make_ready_practice()
    headers = await bearer('system/Patient.read')
    await user.open('/login')
    response = await user.http_client.post(f'{FHIR}/Patient', json=PATIENT, headers=headers)
    assert response.status_code == 403
    assert response.json()['issue'][0]['code'] == 'forbidden'
    assert (await user.http_client.get(f'{FHIR}/Practitioner', headers=headers)).status_code == 403
    assert not await Patient.exists()


async def test_metadata_is_public_and_says_what_is_supported(user: User):
    await user.open('/login')
    response = await user.http_client.get(f'{FHIR}/metadata')
    assert response.status_code == 200
    statement = response.json()
    assert statement['resourceType'] == 'CapabilityStatement' and statement['fhirVersion'] == '4.0.1'
    types = {r['type'] for r in statement['rest'][0]['resource']}
    assert types == {'Patient', 'Practitioner', 'Location', 'VisionPrescription', 'Appointment', 'Invoice'}
    assert statement['rest'][0]['interaction'] == [{'code': 'transaction'}]
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    CapabilityStatement.model_validate(statement)  # a valid R4 resource, not just JSON


async def test_a_patient_is_created_read_searched_and_updated_and_a_resent_one_updates(user: User):
    await factories.make_ready_practice()
    headers = await bearer()
    await user.open('/login')

    created = await user.http_client.post(f'{FHIR}/Patient', json=PATIENT, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    patient = await Patient.get(id=int(body['id']))
    assert (patient.first_name, patient.last_name, patient.email) == ('Jamie', 'Rivera', 'jamie@example.org')
    assert created.headers['location'].endswith(f'{FHIR}/Patient/{patient.id}')
    assert {'system': 'urn:oid:1.2.3.4.5', 'value': 'EHR-77'} in body['identifier']

    again = await user.http_client.post(f'{FHIR}/Patient', json={**PATIENT, 'birthDate': '1980-05-18'}, headers=headers)
    assert again.status_code == 200 and again.json()['id'] == str(patient.id)
    assert await Patient.all().count() == 1
    assert (await Patient.get(id=patient.id)).date_of_birth.isoformat() == '1980-05-18'

    found = await user.http_client.get(f'{FHIR}/Patient?identifier=urn:oid:1.2.3.4.5|EHR-77', headers=headers)
    assert [e['resource']['id'] for e in found.json()['entry']] == [str(patient.id)]
    by_name = await user.http_client.get(f'{FHIR}/Patient?name=rivera', headers=headers)
    assert by_name.json()['total'] == 1

    updated = await user.http_client.put(
        f'{FHIR}/Patient/{patient.id}',
        json={**PATIENT, 'id': str(patient.id), 'name': [{'family': 'Rivera-Stone', 'given': ['Jamie']}]},
        headers=headers,
    )
    assert updated.status_code == 200, updated.text
    assert (await Patient.get(id=patient.id)).last_name == 'Rivera-Stone'
    read = await user.http_client.get(f'{FHIR}/Patient/{patient.id}', headers=headers)
    assert read.json()['name'][0]['family'] == 'Rivera-Stone'

    actions = set(await AuditEvent.filter(actor_type='api').values_list('action', flat=True))
    assert {'patient.created', 'patient.updated', 'fhir.create', 'fhir.update', 'fhir.read', 'fhir.search'} <= actions
    assert await AuditEvent.filter(actor_type='api', actor_label='Main EHR').count() >= 6


async def test_invalid_resources_get_a_4xx_operation_outcome_naming_the_element(user: User):
    await factories.make_ready_practice()
    headers = await bearer()
    await user.open('/login')
    cases = [
        ({**PATIENT, 'birthDate': 'yesterday'}, 'Patient.birthDate'),
        ({**PATIENT, 'name': []}, 'Patient.name'),
        ({**PATIENT, 'modifierExtension': [{'url': 'http://x/y', 'valueBoolean': True}]}, 'Patient.modifierExtension'),
        ({**PATIENT, 'telecom': [{'system': 'email', 'value': 'not-an-address'}]}, 'Patient.telecom'),
        ({**PATIENT, 'unknownElement': 1}, 'Patient.unknownElement'),
        ({'resourceType': 'Practitioner'}, 'resourceType'),
    ]
    for resource, element in cases:
        response = await user.http_client.post(f'{FHIR}/Patient', json=resource, headers=headers)
        assert 400 <= response.status_code < 500, (element, response.text)
        issue = response.json()['issue'][0]
        assert issue['severity'] == 'error'
        assert issue['expression'][0].startswith(element), (element, issue)
    garbage = await user.http_client.post(f'{FHIR}/Patient', content=b'{not json', headers=headers)
    assert garbage.status_code == 400
    huge = await user.http_client.post(f'{FHIR}/Patient', content=b' ' * 10_000_001, headers=headers)
    assert huge.status_code == 413 and huge.json()['resourceType'] == 'OperationOutcome'
    assert not await Patient.exists()


async def test_unknown_extensions_and_narrative_are_accepted_with_warnings(user: User):
    await factories.make_ready_practice()
    headers = await bearer()
    await user.open('/login')
    resource = {
        **PATIENT,
        'text': {'status': 'generated', 'div': '<div xmlns="http://www.w3.org/1999/xhtml">Jamie</div>'},
        'extension': [{'url': 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', 'valueString': 'x'}],
        'gender': 'female',
    }
    response = await user.http_client.post(f'{FHIR}/Patient', json=resource, headers=headers)
    assert response.status_code == 201
    outcome = response.json()
    assert outcome['resourceType'] == 'OperationOutcome'
    expressions = {i['expression'][0] for i in outcome['issue'] if i['severity'] == 'warning'}
    assert {'Patient.text', 'Patient.extension[0]', 'Patient.gender'} <= expressions
    assert await Patient.exists(last_name='Rivera')


async def test_absurd_and_missing_ids_are_404(user: User):
    headers = await bearer()
    await user.open('/login')
    for path in ('/Patient/99999', '/Patient/99999999999999999999', '/Patient/-1', '/Patient/abc', '/Observation/1'):
        response = await user.http_client.get(FHIR + path, headers=headers)
        assert response.status_code == 404, path
        assert response.json()['resourceType'] == 'OperationOutcome'


async def test_a_practitioner_carries_the_npi_and_license_and_a_location_its_address(user: User):
    await factories.make_ready_practice()
    headers = await bearer()
    await user.open('/login')
    practitioner = {
        'resourceType': 'Practitioner',
        'identifier': [{'system': 'http://hl7.org/fhir/sid/us-npi', 'value': '1234567893'}],
        'name': [{'text': 'Alex Morgan', 'suffix': ['OD']}],
        'qualification': [{'identifier': [{'value': 'VT-OD-1'}], 'code': {'text': 'OD'}, 'issuer': {'display': 'VT'}}],
    }
    response = await user.http_client.post(f'{FHIR}/Practitioner', json=practitioner, headers=headers)
    assert response.status_code == 201, response.text
    provider = await Provider.get(npi='1234567893')
    assert (provider.name, provider.licence_number, provider.licence_state) == ('Alex Morgan', 'VT-OD-1', 'VT')
    again = await user.http_client.post(f'{FHIR}/Practitioner', json=practitioner, headers=headers)
    assert again.status_code == 200 and await Provider.filter(npi='1234567893').count() == 1
    found = await user.http_client.get(
        f'{FHIR}/Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567893', headers=headers
    )
    assert found.json()['entry'][0]['resource']['qualification'][0]['identifier'][0]['value'] == 'VT-OD-1'
    bad_npi = {**practitioner, 'identifier': [{'system': 'http://hl7.org/fhir/sid/us-npi', 'value': '1234567890'}]}
    refused = await user.http_client.post(f'{FHIR}/Practitioner', json=bad_npi, headers=headers)
    assert refused.status_code == 422 and refused.json()['issue'][0]['expression'] == ['Practitioner.identifier']

    location = {
        'resourceType': 'Location',
        'identifier': [{'system': 'urn:ehr:location', 'value': 'L2'}],
        'name': 'Harbor office',
        'address': {'line': ['1 Harbor Way'], 'city': 'Portland', 'state': 'ME', 'postalCode': '04101'},
    }
    response = await user.http_client.post(f'{FHIR}/Location', json=location, headers=headers)
    assert response.status_code == 201, response.text
    stored = await Location.get(name='Harbor office')
    assert stored.address == '1 Harbor Way, Portland, ME 04101'
    renamed = await user.http_client.put(
        f'{FHIR}/Location/{stored.id}', json={**location, 'name': 'Harbor Way office'}, headers=headers
    )
    assert renamed.status_code == 200 and (await Location.get(id=stored.id)).name == 'Harbor Way office'


async def test_a_vision_prescription_and_a_transaction_bundle_through_the_api(user: User):
    from datetime import timedelta

    from models.prescription import Prescription
    from services.fhir_r4 import vision

    practice = await factories.make_ready_practice()
    provider = await factories.make_provider(practice, npi='1234567893')
    headers = await bearer()
    await user.open('/login')
    written = (factories.today() - timedelta(days=2)).isoformat()
    lens = {'coding': [{'system': vision.PRODUCT_SYSTEM, 'code': 'lens'}]}
    rx = {
        'resourceType': 'VisionPrescription',
        'status': 'active',
        'created': written,
        'dateWritten': written,
        'patient': {'reference': 'urn:uuid:patient-1'},
        'prescriber': {'reference': f'Practitioner/{provider.id}'},
        'extension': [{'url': vision.PURPOSE, 'valueCode': 'near'}],
        'lensSpecification': [
            {'product': lens, 'eye': 'right', 'sphere': 1.25},
            {'product': lens, 'eye': 'left', 'sphere': 1.5},
        ],
    }
    transaction = {
        'resourceType': 'Bundle',
        'type': 'transaction',
        'entry': [
            {'fullUrl': 'urn:uuid:rx-1', 'resource': rx, 'request': {'method': 'POST', 'url': 'VisionPrescription'}},
            {'fullUrl': 'urn:uuid:patient-1', 'resource': PATIENT, 'request': {'method': 'POST', 'url': 'Patient'}},
        ],
    }
    response = await user.http_client.post(FHIR, json=transaction, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer['type'] == 'transaction-response'
    rx_location = answer['entry'][0]['response']['location']
    patient = await Patient.get(last_name='Rivera')
    stored = await Prescription.get(id=int(rx_location.split('/')[1]))
    assert stored.patient_id == patient.id and stored.status == 'final'

    found = await user.http_client.get(f'{FHIR}/VisionPrescription?patient=Patient/{patient.id}', headers=headers)
    assert [e['resource']['id'] for e in found.json()['entry']] == [str(stored.id)]
    assert await AuditEvent.exists(action='fhir.released', patient_id=patient.id, object_id=stored.id)

    read_only = await bearer('system/Patient.write')
    refused = await user.http_client.post(FHIR, json=transaction, headers=read_only)
    assert refused.status_code == 403


async def test_a_final_rx_sent_by_the_ehr_appears_in_the_patients_open_portal(user: User, smtp_server):
    from datetime import timedelta

    from services.fhir_r4 import vision
    from tests.portal_user import sign_in

    patient = await factories.make_active_patient()
    await factories.give_consent(patient)
    provider = await factories.make_provider(await patient.practice, name='Alex Morgan', npi='1234567893')
    headers = await bearer()
    await sign_in(user, smtp_server, patient)
    await user.open('/prescriptions')
    await user.should_see('Your prescriptions')
    await user.should_not_see('Glasses prescription')

    written = (factories.today() - timedelta(days=1)).isoformat()
    lens = {'coding': [{'system': vision.PRODUCT_SYSTEM, 'code': 'lens'}]}
    rx = {
        'resourceType': 'VisionPrescription',
        'status': 'active',
        'created': written,
        'dateWritten': written,
        'patient': {'reference': f'Patient/{patient.id}'},
        'prescriber': {'reference': f'Practitioner/{provider.id}'},
        'extension': [{'url': vision.PURPOSE, 'valueCode': 'distance'}],
        'lensSpecification': [
            {'product': lens, 'eye': 'right', 'sphere': -3.75, 'cylinder': -1.25, 'axis': 45},
            {'product': lens, 'eye': 'left', 'sphere': -3.5},
        ],
    }
    response = await user.http_client.post(f'{FHIR}/VisionPrescription', json=rx, headers=headers)
    assert response.status_code == 201, response.text

    await user.should_see('Glasses prescription', retries=200)  # no reload: the signing event refreshed it
    await user.should_see('-3.75')
    await user.should_see('Alex Morgan, OD')


async def test_other_paths_and_methods_under_fhir_answer_with_an_operation_outcome(user: User):
    headers = await bearer()
    await user.open('/login')
    for method, path in (('GET', '/Patient/1/_history'), ('DELETE', '/Patient/1'), ('PATCH', '/Patient/1')):
        response = await user.http_client.request(method, FHIR + path, headers=headers)
        assert response.status_code in (404, 405), (method, path)
        assert response.json()['resourceType'] == 'OperationOutcome'
        anonymous = await user.http_client.request(method, FHIR + path)
        assert anonymous.status_code == 401, (method, path)


async def test_the_console_says_an_rx_from_the_ehr_was_signed_there(user: User):
    from datetime import timedelta

    from services.fhir_r4 import vision
    from tests.test_staff_console import open_profile, staff_sign_in

    patient = await factories.make_active_patient()
    provider = await factories.make_provider(await patient.practice, name='Alex Morgan', npi='1234567893')
    written = (factories.today() - timedelta(days=1)).isoformat()
    lens = {'coding': [{'system': vision.PRODUCT_SYSTEM, 'code': 'lens'}]}
    rx = {
        'resourceType': 'VisionPrescription',
        'status': 'active',
        'created': written,
        'dateWritten': written,
        'patient': {'reference': f'Patient/{patient.id}'},
        'prescriber': {'reference': f'Practitioner/{provider.id}'},
        'extension': [{'url': vision.PURPOSE, 'valueCode': 'near'}],
        'lensSpecification': [
            {'product': lens, 'eye': 'right', 'sphere': 1.25},
            {'product': lens, 'eye': 'left', 'sphere': 1.5},
        ],
    }
    from services.fhir_r4 import resources
    from services.fhir_r4.common import Warnings

    await resources.write('VisionPrescription', rx, audit.Actor.api_client(1, 'Main EHR'), None, Warnings(), {})
    await staff_sign_in(user)
    await open_profile(user, patient)
    await user.should_see('Signed by Alex Morgan, OD in another system (imported)')
