"""Patient <-> our patient chart (services.patients: the console's validation and rules)."""

from typing import Any

from models.patient import Patient
from services import audit, patients
from services.errors import DomainError, NotFound
from services.fhir_r4.common import (
    CHART_NUMBER_SYSTEM,
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
from services.patients import PatientInput

RESOURCE_TYPE = 'Patient'
KNOWN_EXTENSIONS: set[str] = set()
STORED = {'resourceType', 'id', 'meta', 'text', 'identifier', 'name', 'birthDate', 'telecom', 'address', 'extension'}


def to_fhir(patient: Patient, identifiers: list[dict[str, str]]) -> dict[str, Any]:
    resource: dict[str, Any] = {'resourceType': RESOURCE_TYPE, 'id': str(patient.id)}
    all_identifiers = list(identifiers)
    if patient.chart_number:
        all_identifiers.insert(
            0,
            {
                'use': 'usual',
                'type': {'coding': [{'system': 'http://terminology.hl7.org/CodeSystem/v2-0203', 'code': 'MR'}]},
                'system': CHART_NUMBER_SYSTEM,
                'value': patient.chart_number,
            },
        )
    if all_identifiers:
        resource['identifier'] = all_identifiers
    resource['name'] = [{'use': 'official', 'family': patient.last_name, 'given': [patient.first_name]}]
    telecom = []
    if patient.phone:
        telecom.append({'system': 'phone', 'value': patient.phone})
    if patient.email:
        telecom.append({'system': 'email', 'value': patient.email})
    if telecom:
        resource['telecom'] = telecom
    resource['birthDate'] = patient.date_of_birth.isoformat()
    if patient.address:
        resource['address'] = [{'text': patient.address}]
    return resource


async def read(patient_id: int) -> dict[str, Any]:
    return await read_record(RESOURCE_TYPE, await Patient.get_or_none(id=patient_id), 'patient', to_fhir)


async def search(params: dict[str, str], limit: int) -> list[dict[str, Any]]:
    query = Patient.all()
    if 'identifier' in params:
        token = params['identifier']
        system, bar, value = token.partition('|')
        ids = await ids_for_identifier(RESOURCE_TYPE, token)
        if (not bar or system == CHART_NUMBER_SYSTEM) and (value if bar else token):
            ids += list(
                await Patient.filter(chart_number=value if bar else token).values_list('id', flat=True)  # type: ignore[arg-type]
            )
        query = query.filter(id__in=ids)
    if 'name' in params:
        key = patients.fold(params['name'])
        query = query.filter(search_name__contains=key) if key else query.filter(id=0)
    if 'family' in params:
        query = query.filter(last_name__iexact=params['family'])
    if 'birthdate' in params:
        born = patients.parse_date(params['birthdate'])
        if born is None:
            raise FhirProblem(400, 'birthdate must be a date, YYYY-MM-DD.', 'birthdate')
        query = query.filter(date_of_birth=born)
    if '_id' in params:
        query = query.filter(id=_id_or_zero(params['_id']))
    rows = await query.order_by('id').limit(limit)
    found = await identifiers_of(RESOURCE_TYPE, [p.id for p in rows])
    return [to_fhir(p, found.get(p.id, [])) for p in rows]


def _id_or_zero(text: str) -> int:
    from portal.ids import parse_id

    return parse_id(text) or 0


def _input(model: Any, warnings: Warnings) -> tuple[PatientInput, list[tuple[str, str]]]:
    names = model.name or []
    name = next((n for n in names if n.use == 'official'), names[0] if names else None)
    if name is None or not name.family or not name.given:
        raise FhirProblem(422, 'Patient.name needs a family name and a given name.', 'Patient.name', 'required')
    if model.birthDate is None:
        raise FhirProblem(
            422, 'Patient.birthDate is required: the practice matches patients by it.', 'Patient.birthDate'
        )
    chart = ''
    pairs = []
    for system, value in identifier_pairs(model.identifier, 'Patient.identifier'):
        if system == CHART_NUMBER_SYSTEM:
            chart = value
        else:
            pairs.append((system, value))
    email = next((t.value for t in model.telecom or [] if t.system == 'email' and t.value), '')
    phone = next((t.value for t in model.telecom or [] if t.system == 'phone' and t.value), '')
    address = ''
    if model.address:
        first = model.address[0]
        address = first.text or ', '.join(
            part
            for part in (
                ' '.join(first.line or []),
                first.city,
                ' '.join(p for p in (first.state, first.postalCode) if p),
            )
            if part
        )
    for element in sorted(set(model.model_dump(exclude_none=True, by_alias=True)) - STORED):
        warnings.add(f'Patient.{element}', f'Patient.{element} is not stored by this server.')
    data = PatientInput(
        first_name=' '.join(name.given),
        last_name=name.family,
        date_of_birth=model.birthDate.isoformat(),
        email=email,
        phone=phone,
        address=address,
        chart_number=chart,
    )
    return data, pairs


async def write(
    body: Any, actor: audit.Actor, record_id: int | None, warnings: Warnings, resolved: dict[str, str]
) -> tuple[int, bool]:
    """Create or update; a Patient whose source identifier we know updates the patient it created."""
    model = parse(RESOURCE_TYPE, body, KNOWN_EXTENSIONS, warnings)
    data, pairs = _input(model, warnings)
    if record_id is None:
        record_id = await matched_record(RESOURCE_TYPE, pairs)
    try:
        if record_id is None:
            patient = await patients.create_patient(data, actor)
            created = True
        else:
            patient = await patients.update_patient(record_id, data, actor)
            created = False
    except NotFound:
        raise
    except DomainError as error:
        raise FhirProblem(422, str(error), _element_of(str(error))) from None
    await remember_identifiers(RESOURCE_TYPE, patient.id, pairs)
    return patient.id, created


def _element_of(message: str) -> str:
    """The element a service's sentence is about (it names the field in the receptionist's words)."""
    lowered = message.lower()
    for words, element in (
        (('email', 'phone', 'number'), 'Patient.telecom'),
        (('birth',), 'Patient.birthDate'),
        (('name',), 'Patient.name'),
        (('portal',), 'Patient.telecom'),
    ):
        if any(word in lowered for word in words):
            return element
    return 'Patient'


async def patient_of(record_id: int) -> int | None:
    return record_id
