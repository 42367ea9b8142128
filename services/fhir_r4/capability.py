"""The CapabilityStatement: exactly what this server does, no more."""

from typing import Any

from services.fhir_r4.resources import MAPPERS, SEARCH_PARAMS

SEARCH_TYPES = {'_id': 'token', 'identifier': 'token', 'name': 'string', 'family': 'string', 'birthdate': 'date',
                'patient': 'reference', 'date': 'date', 'status': 'token'}  # fmt: skip


def statement(base_url: str) -> dict[str, Any]:
    return {
        'resourceType': 'CapabilityStatement',
        'status': 'active',
        'date': '2026-11-26',
        'kind': 'instance',
        'software': {'name': 'Eye-care patient portal'},
        'implementation': {'description': 'Eye-care patient portal FHIR R4 API', 'url': base_url},
        'fhirVersion': '4.0.1',
        'format': ['application/fhir+json', 'json'],
        'rest': [
            {
                'mode': 'server',
                'security': {
                    'cors': False,
                    'description': 'A static bearer token per API client, created by a practice administrator in '
                    'the staff console (shown once, stored hashed, revocable), granting SMART system/ scopes such as '
                    'system/Patient.read, system/VisionPrescription.write or system/*.read. There is no OAuth token '
                    'endpoint. No token or an invalid one: 401; a scope missing: 403.',
                },
                'resource': [
                    {
                        'type': resource_type,
                        'interaction': [{'code': code} for code in ('read', 'search-type', 'create', 'update')],
                        'versioning': 'no-version',
                        'readHistory': False,
                        'updateCreate': False,
                        'conditionalCreate': False,
                        'searchParam': [
                            {'name': name, 'type': SEARCH_TYPES.get(name, 'string')}
                            for name in SEARCH_PARAMS[resource_type]
                        ],
                    }
                    for resource_type in MAPPERS
                ],
                'interaction': [{'code': 'transaction'}],
            }
        ],
    }
