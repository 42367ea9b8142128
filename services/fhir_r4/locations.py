"""Location <-> our practice location (services.locations)."""

from typing import Any

from models.practice import Location
from portal.ids import parse_id
from services import audit, locations
from services.errors import DomainError, NotFound
from services.fhir_r4.common import (
    FhirProblem,
    Warnings,
    identifier_pairs,
    identifiers_of,
    ids_for_identifier,
    matched_record,
    parse,
    read_record,
    remember_identifiers,
)
from services.locations import LocationInput

RESOURCE_TYPE = 'Location'
KNOWN_EXTENSIONS: set[str] = set()
STORED = {'resourceType', 'id', 'meta', 'text', 'identifier', 'name', 'address', 'telecom', 'status', 'extension'}
STATUSES = ('active', 'inactive')


def to_fhir(location: Location, identifiers: list[dict[str, str]]) -> dict[str, Any]:
    resource: dict[str, Any] = {'resourceType': RESOURCE_TYPE, 'id': str(location.id)}
    if identifiers:
        resource['identifier'] = identifiers
    resource['status'] = 'active' if location.is_active else 'inactive'
    resource['name'] = location.name
    if location.phone:
        resource['telecom'] = [{'system': 'phone', 'value': location.phone}]
    if location.address:
        resource['address'] = {'text': location.address}
    return resource


async def read(location_id: int) -> dict[str, Any]:
    return await read_record(RESOURCE_TYPE, await Location.get_or_none(id=location_id), 'location', to_fhir)


async def search(params: dict[str, str], limit: int) -> list[dict[str, Any]]:
    query = Location.all()
    if 'identifier' in params:
        query = query.filter(id__in=await ids_for_identifier(RESOURCE_TYPE, params['identifier']))
    if 'name' in params:
        query = query.filter(name__icontains=params['name'])
    if '_id' in params:
        query = query.filter(id=parse_id(params['_id']) or 0)
    rows = await query.order_by('id').limit(limit)
    found = await identifiers_of(RESOURCE_TYPE, [p.id for p in rows])
    return [to_fhir(p, found.get(p.id, [])) for p in rows]


async def write(
    body: Any, actor: audit.Actor, record_id: int | None, warnings: Warnings, resolved: dict[str, str]
) -> tuple[int, bool]:
    model = parse(RESOURCE_TYPE, body, KNOWN_EXTENSIONS, warnings)
    pairs = identifier_pairs(model.identifier, 'Location.identifier')
    if not model.name:
        raise FhirProblem(422, 'Location.name is required.', 'Location.name', 'required')
    if model.status and model.status not in STATUSES:
        raise FhirProblem(422, f'Location.status {model.status!r} is not one this server keeps.', 'Location.status')
    address = ''
    if model.address:
        a = model.address
        address = a.text or ', '.join(
            p for p in (' '.join(a.line or []), a.city, ' '.join(x for x in (a.state, a.postalCode) if x)) if p
        )
    phone = next((t.value for t in model.telecom or [] if t.system == 'phone' and t.value), '')
    for element in sorted(set(model.model_dump(exclude_none=True, by_alias=True)) - STORED):
        warnings.add(f'Location.{element}', f'Location.{element} is not stored by this server.')
    data = LocationInput(name=model.name, address=address, phone=phone)
    if record_id is None:
        record_id = await matched_record(RESOURCE_TYPE, pairs)
    if record_id is None:  # active locations have unique names: the same name is the same office
        same = await Location.filter(name=' '.join(model.name.split()), is_active=True).first()
        record_id = same.id if same else None
    try:
        if record_id is None:
            location = await locations.add_location(data, actor)
            created = True
        else:
            location = await locations.update_location(record_id, data, actor)
            created = False
        if model.status and (model.status == 'active') != location.is_active:
            location = await locations.set_location_active(location.id, model.status == 'active', actor)
    except NotFound:
        raise
    except DomainError as error:
        element = 'Location.telecom' if 'phone' in str(error).lower() else 'Location'
        raise FhirProblem(422, str(error), element) from None
    await remember_identifiers(RESOURCE_TYPE, location.id, pairs)
    return location.id, created


async def patient_of(record_id: int) -> int | None:
    return None
