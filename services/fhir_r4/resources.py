"""The resource types the API serves, each a mapping module with the same functions."""

from types import ModuleType
from typing import Any

from tortoise.exceptions import ValidationError

from services import audit
from services.fhir_r4 import appointments, invoices, locations, patients, practitioners, vision
from services.fhir_r4.common import FhirProblem, Warnings
from services.typed_text import unstorable

MAPPERS: dict[str, ModuleType] = {
    'Patient': patients,
    'Practitioner': practitioners,
    'Location': locations,
    'VisionPrescription': vision,
    'Appointment': appointments,
    'Invoice': invoices,
}
# Search parameters each type understands (anything else is refused, not silently ignored).
SEARCH_PARAMS: dict[str, tuple[str, ...]] = {
    'Patient': ('_id', 'identifier', 'name', 'family', 'birthdate'),
    'Practitioner': ('_id', 'identifier', 'name'),
    'Location': ('_id', 'identifier', 'name'),
    'VisionPrescription': ('_id', 'identifier', 'patient', 'date', 'status'),
    'Appointment': ('_id', 'identifier', 'patient', 'date', 'status'),
    'Invoice': ('_id', 'identifier', 'patient', 'date'),
}


def _mapper(resource_type: str) -> ModuleType:
    mapper = MAPPERS.get(resource_type)
    if mapper is None:
        raise FhirProblem(404, f'{resource_type} is not a resource type this server supports.', '', 'not-supported')
    return mapper


async def read(resource_type: str, record_id: int) -> dict[str, Any]:
    return await _mapper(resource_type).read(record_id)


async def search(resource_type: str, params: dict[str, str], limit: int) -> list[dict[str, Any]]:
    mapper = _mapper(resource_type)
    unknown = sorted(set(params) - set(SEARCH_PARAMS[resource_type]))
    if unknown:
        raise FhirProblem(
            400,
            f'Search parameter {unknown[0]} is not supported for {resource_type} '
            f'(supported: {", ".join(SEARCH_PARAMS[resource_type])}).',
            unknown[0],
            'not-supported',
        )
    for name, value in params.items():
        if unstorable(value):
            raise FhirProblem(400, f'Search parameter {name} holds a control character; no record can match it.', name)
    try:
        return await mapper.search(params, limit)
    except ValidationError:  # a value longer than the column it is compared with: no record holds it
        return []


async def write(
    resource_type: str,
    body: Any,
    actor: audit.Actor,
    record_id: int | None,
    warnings: Warnings,
    resolved: dict[str, str],
) -> tuple[int, bool]:
    return await _mapper(resource_type).write(body, actor, record_id, warnings, resolved)


async def patient_of(resource_type: str, record_id: int) -> int | None:
    """The patient a record belongs to (for the audit trail's per-patient view), or None."""
    return await _mapper(resource_type).patient_of(record_id)


def patient_in(resource: dict[str, Any]) -> int | None:
    """The patient an exported resource belongs to, read from the resource itself (no query)."""
    if resource.get('resourceType') == 'Patient':
        return int(resource['id'])
    references = [resource.get('patient'), resource.get('subject')]
    references += [p.get('actor') for p in resource.get('participant') or [] if isinstance(p, dict)]
    for reference in references:
        text = (reference or {}).get('reference', '') if isinstance(reference, dict) else ''
        if text.startswith('Patient/'):
            return int(text.removeprefix('Patient/'))
    return None
