"""Practitioner <-> our provider (services.providers): NPI as an identifier, the license as a qualification."""

from typing import Any

from models.practice import Provider
from portal.ids import parse_id
from services import audit, providers
from services.errors import DomainError, NotFound
from services.fhir_r4.common import (
    LICENSE_SYSTEM,
    NPI_SYSTEM,
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
from services.providers import ProviderInput

RESOURCE_TYPE = 'Practitioner'
KNOWN_EXTENSIONS: set[str] = set()
STORED = {'resourceType', 'id', 'meta', 'text', 'identifier', 'name', 'qualification', 'active', 'extension'}


def to_fhir(provider: Provider, identifiers: list[dict[str, str]]) -> dict[str, Any]:
    all_identifiers = ([{'system': NPI_SYSTEM, 'value': provider.npi}] if provider.npi else []) + identifiers
    resource: dict[str, Any] = {'resourceType': RESOURCE_TYPE, 'id': str(provider.id)}
    if all_identifiers:
        resource['identifier'] = all_identifiers
    resource['active'] = provider.is_active
    name: dict[str, Any] = {'text': provider.name}
    if provider.credentials:
        name['suffix'] = [provider.credentials]
    resource['name'] = [name]
    if provider.licence_number:
        resource['qualification'] = [
            {
                'identifier': [{'system': LICENSE_SYSTEM + provider.licence_state, 'value': provider.licence_number}],
                'code': {'text': provider.credentials},
                'issuer': {'display': provider.licence_state},
            }
        ]
    return resource


async def read(provider_id: int) -> dict[str, Any]:
    return await read_record(RESOURCE_TYPE, await Provider.get_or_none(id=provider_id), 'provider', to_fhir)


async def search(params: dict[str, str], limit: int) -> list[dict[str, Any]]:
    query = Provider.all()
    if 'identifier' in params:
        token = params['identifier']
        system, bar, value = token.partition('|')
        ids = await ids_for_identifier(RESOURCE_TYPE, token)
        if not bar or system == NPI_SYSTEM:
            ids += list(await Provider.filter(npi=value if bar else token).values_list('id', flat=True))  # type: ignore[arg-type]
        query = query.filter(id__in=ids)
    if 'name' in params:
        query = query.filter(name__icontains=params['name'])
    if '_id' in params:
        query = query.filter(id=parse_id(params['_id']) or 0)
    rows = await query.order_by('id').limit(limit)
    found = await identifiers_of(RESOURCE_TYPE, [p.id for p in rows])
    return [to_fhir(p, found.get(p.id, [])) for p in rows]


def _input(model: Any, warnings: Warnings) -> tuple[ProviderInput, list[tuple[str, str]]]:
    names = model.name or []
    if not names:
        raise FhirProblem(
            422, 'Practitioner.name is required: it is printed on every prescription.', 'Practitioner.name'
        )
    name = names[0]
    text = name.text or ' '.join([*(name.prefix or []), *(name.given or []), *([name.family] if name.family else [])])
    npi = ''
    pairs = []
    for system, value in identifier_pairs(model.identifier, 'Practitioner.identifier'):
        if system == NPI_SYSTEM:
            npi = value
        else:
            pairs.append((system, value))
    qualifications = model.qualification or []
    if not qualifications:
        raise FhirProblem(
            422,
            'Practitioner.qualification must carry the license (identifier with the number, issuer the state): '
            'it is printed on every prescription.',
            'Practitioner.qualification',
            'required',
        )
    qualification = qualifications[0]
    license_number = qualification.identifier[0].value if qualification.identifier else ''
    state = (qualification.issuer.display if qualification.issuer else '') or ''
    if not state and qualification.identifier and (qualification.identifier[0].system or '').startswith(LICENSE_SYSTEM):
        state = qualification.identifier[0].system.removeprefix(LICENSE_SYSTEM)
    credentials = (qualification.code.text if qualification.code else '') or ' '.join(name.suffix or [])
    for element in sorted(set(model.model_dump(exclude_none=True, by_alias=True)) - STORED):
        warnings.add(f'Practitioner.{element}', f'Practitioner.{element} is not stored by this server.')
    data = ProviderInput(
        name=text, credentials=credentials, license_number=license_number or '', license_state=state, npi=npi
    )
    return data, pairs


async def write(
    body: Any, actor: audit.Actor, record_id: int | None, warnings: Warnings, resolved: dict[str, str]
) -> tuple[int, bool]:
    model = parse(RESOURCE_TYPE, body, KNOWN_EXTENSIONS, warnings)
    data, pairs = _input(model, warnings)
    if record_id is None:
        record_id = await matched_record(RESOURCE_TYPE, pairs)
    if record_id is None and data.npi:  # the NPI identifies a prescriber nationally: same NPI, same provider
        existing = await Provider.get_or_none(npi=providers.validated_npi(data.npi)) if _npi_ok(data.npi) else None
        record_id = existing.id if existing else None
    try:
        if record_id is None:
            provider = await providers.add_provider(data, actor)
            created = True
        else:
            provider = await providers.update_provider(record_id, data, actor)
            created = False
        if model.active is not None and model.active != provider.is_active:
            provider = await providers.set_provider_active(provider.id, bool(model.active), actor)
    except NotFound:
        raise
    except DomainError as error:
        raise FhirProblem(422, str(error), _element_of(str(error))) from None
    await remember_identifiers(RESOURCE_TYPE, provider.id, pairs)
    return provider.id, created


def _npi_ok(npi: str) -> bool:
    try:
        providers.validated_npi(npi)
    except DomainError:
        return False
    return True


def _element_of(message: str) -> str:
    lowered = message.lower()
    if 'npi' in lowered:
        return 'Practitioner.identifier'
    if 'license' in lowered or 'credential' in lowered or 'state' in lowered:
        return 'Practitioner.qualification'
    if 'name' in lowered:
        return 'Practitioner.name'
    return 'Practitioner'


async def patient_of(record_id: int) -> int | None:
    return None
