"""The FHIR API against the real running server, with a real FHIR client library (fhirpy): one flow."""

from datetime import timedelta
from pathlib import Path

import pytest
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, ForbiddenError, OperationOutcome
from tortoise import Tortoise

from portal.db import tortoise_config
from services import api_clients, audit
from services.fhir_r4 import vision
from tests import factories
from tests.databases import migrated_database_url
from tests.live_server import running_portal
from tests.mail import SmtpServer

NPI = 'http://hl7.org/fhir/sid/us-npi'


async def _seed(url: str) -> tuple[str, str]:
    """A set-up practice and two API clients (read+write, read only); the server starts afterwards."""
    await Tortoise.init(config=tortoise_config(url))
    try:
        await factories.make_ready_practice()
        staff = await factories.make_staff()
        actor = audit.Actor.staff(staff)
        writer = await api_clients.create_client('Main EHR', 'system/*.read system/*.write', actor)
        reader = await api_clients.create_client('Reports', 'system/Patient.read', actor)
    finally:
        await Tortoise.close_connections()
    return writer.token, reader.token


async def test_an_ehr_creates_searches_updates_and_batches_through_fhirpy(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
    async with migrated_database_url(str(tmp_path)) as url:
        token, read_only = await _seed(url)
        env = {
            'PORTAL_DATA_DIR': str(tmp_path / 'data'),
            'PORTAL_DATABASE_URL': url,
            'PORTAL_SECRET_KEY': secret_key,
            'PORTAL_SMTP_HOST': '127.0.0.1',
            'PORTAL_SMTP_PORT': str(smtp_server.port),
        }
        with running_portal(env, tmp_path / 'portal.log') as base_url:
            fhir = AsyncFHIRClient(f'{base_url}/fhir/R4', authorization=f'Bearer {token}')

            statement = await fhir.execute('metadata', method='get')
            assert statement['resourceType'] == 'CapabilityStatement'
            assert {'code': 'transaction'} in statement['rest'][0]['interaction']

            practitioner = fhir.resource(
                'Practitioner',
                identifier=[{'system': NPI, 'value': '1234567893'}],
                name=[{'text': 'Alex Morgan', 'suffix': ['OD']}],
                qualification=[
                    {'identifier': [{'value': 'ME-OD-9'}], 'code': {'text': 'OD'}, 'issuer': {'display': 'ME'}}
                ],
            )
            await practitioner.save()
            patient = fhir.resource(
                'Patient',
                identifier=[{'system': 'urn:ehr:mrn', 'value': 'MRN-500'}],
                name=[{'family': 'Okafor', 'given': ['Ada']}],
                birthDate='1975-03-09',
                telecom=[{'system': 'email', 'value': 'ada@example.org'}],
            )
            await patient.save()
            assert patient.id

            written = (factories.today() - timedelta(days=1)).isoformat()
            lens = {'coding': [{'system': vision.PRODUCT_SYSTEM, 'code': 'lens'}]}
            rx = fhir.resource(
                'VisionPrescription',
                status='active',
                created=written,
                dateWritten=written,
                patient=patient.to_reference(),
                prescriber=practitioner.to_reference(),
                extension=[{'url': vision.PURPOSE, 'valueCode': 'distance'}],
                lensSpecification=[
                    {'product': lens, 'eye': 'right', 'sphere': -1.25, 'cylinder': -0.5, 'axis': 180},
                    {'product': lens, 'eye': 'left', 'sphere': -1.0},
                ],
            )
            await rx.save()

            found = await fhir.resources('Patient').search(identifier='urn:ehr:mrn|MRN-500').fetch()
            assert [p.id for p in found] == [patient.id]
            by_npi = await fhir.resources('Practitioner').search(identifier=f'{NPI}|1234567893').fetch()
            assert by_npi[0]['name'][0]['text'] == 'Alex Morgan'
            prescriptions = await fhir.resources('VisionPrescription').search(patient=patient.id).fetch()
            assert [r.id for r in prescriptions] == [rx.id]
            assert prescriptions[0]['lensSpecification'][0]['axis'] == 180

            patient['name'] = [{'family': 'Okafor-Bell', 'given': ['Ada']}]
            await patient.save()
            assert (await fhir.resources('Patient').search(_id=patient.id).fetch())[0]['name'][0]['family'] == (
                'Okafor-Bell'
            )

            bundle = {
                'resourceType': 'Bundle',
                'type': 'transaction',
                'entry': [
                    {
                        'fullUrl': 'urn:uuid:new-patient',
                        'resource': {
                            'resourceType': 'Patient',
                            'name': [{'family': 'Lindqvist', 'given': ['Sven']}],
                            'birthDate': '2001-12-24',
                        },
                        'request': {'method': 'POST', 'url': 'Patient'},
                    },
                    {
                        'resource': {
                            'resourceType': 'Location',
                            'name': 'Downtown office',
                            'identifier': [{'system': 'urn:ehr:loc', 'value': 'D1'}],
                        },
                        'request': {'method': 'POST', 'url': 'Location'},
                    },
                ],
            }
            answer = await fhir.execute('', method='post', data=bundle)
            assert [e['response']['status'] for e in answer['entry']] == ['201 Created', '201 Created']

            bad = fhir.resource('VisionPrescription', **{k: v for k, v in rx.serialize().items() if k != 'id'})
            bad['lensSpecification'][0]['sphere'] = -1.3
            with pytest.raises(OperationOutcome) as refused:  # an Rx value off the 0.25 D steps: refused, named
                await bad.save()
            assert 'VisionPrescription.lensSpecification[0]' in str(refused.value)
            assert '0.25 D steps' in str(refused.value)
            with pytest.raises(AuthorizationError):
                await AsyncFHIRClient(f'{base_url}/fhir/R4').resources('Patient').fetch()
            with pytest.raises(ForbiddenError):
                await (
                    AsyncFHIRClient(f'{base_url}/fhir/R4', authorization=f'Bearer {read_only}')
                    .resource('Patient', name=[{'family': 'X', 'given': ['Y']}], birthDate='1990-01-01')
                    .save()
                )
