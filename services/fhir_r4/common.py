"""What every resource mapping shares: parsing, OperationOutcome problems, references, source identifiers."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError
from tortoise.exceptions import IntegrityError

from models.api_client import ExternalIdentifier
from portal.ids import parse_id
from services.errors import NotFound
from services.typed_text import unstorable

# The project's own URL base for the elements R4 lacks (documented in docs/fhir.md).
BASE = 'https://eyecare-portal.example/fhir'
EXTENSION = BASE + '/StructureDefinition/'
CHART_NUMBER_SYSTEM = BASE + '/sid/chart-number'
LICENSE_SYSTEM = BASE + '/sid/license/'  # + the issuing state's two-letter code
NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi'
UCUM = 'http://unitsofmeasure.org'


def ext(name: str) -> str:
    return EXTENSION + name


@dataclass
class FhirProblem(Exception):
    """A request the API refuses: becomes an OperationOutcome with this HTTP status."""

    status: int
    diagnostics: str
    expression: str = ''
    code: str = 'invalid'

    def __str__(self) -> str:
        return self.diagnostics


@dataclass
class Warnings:
    """What the API accepted but does not keep: returned as OperationOutcome warnings with the result."""

    items: list[tuple[str, str]] = field(default_factory=list)  # (expression, text)

    def add(self, expression: str, text: str) -> None:
        self.items.append((expression, text))


def outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    return {'resourceType': 'OperationOutcome', 'issue': issues}


def problem_outcome(problem: FhirProblem) -> dict[str, Any]:
    issue: dict[str, Any] = {'severity': 'error', 'code': problem.code, 'diagnostics': problem.diagnostics}
    if problem.expression:
        issue['expression'] = [problem.expression]
    return outcome([issue])


def warning_outcome(warnings: Warnings) -> dict[str, Any]:
    return outcome(
        [
            {'severity': 'warning', 'code': 'informational', 'diagnostics': text, 'expression': [expression]}
            for expression, text in warnings.items
        ]
        or [{'severity': 'information', 'code': 'informational', 'diagnostics': 'All OK'}]
    )


def _path(resource_type: str, location: tuple[Any, ...]) -> str:
    path = resource_type
    for part in location:
        path += f'[{part}]' if isinstance(part, int) else f'.{part}'
    return path


def _refuse_modifier_extensions(value: Any, path: str) -> None:
    """A modifierExtension changes the meaning of what it sits in: one we do not know cannot be ignored."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == 'modifierExtension' and item:
                url = item[0].get('url', '') if isinstance(item, list) and isinstance(item[0], dict) else ''
                raise FhirProblem(
                    422,
                    f'{path}.modifierExtension {url} is not understood by this server; the resource is refused '
                    'because a modifier extension changes its meaning.',
                    f'{path}.modifierExtension',
                    'not-supported',
                )
            _refuse_modifier_extensions(item, f'{path}.{key}')
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_modifier_extensions(item, f'{path}[{index}]')


def _warn_unknown_extensions(value: Any, path: str, known: set[str], warnings: Warnings) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == 'extension' and isinstance(item, list):
                for index, extension in enumerate(item):
                    url = extension.get('url', '') if isinstance(extension, dict) else ''
                    if url not in known:
                        warnings.add(f'{path}.extension[{index}]', f'Extension {url} is not stored by this server.')
            elif key not in ('contained',):
                _warn_unknown_extensions(item, f'{path}.{key}', known, warnings)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _warn_unknown_extensions(item, f'{path}[{index}]', known, warnings)


def parse(resource_type: str, body: Any, known_extensions: set[str], warnings: Warnings) -> Any:
    """The resource as an R4B model, or FhirProblem naming the element that is wrong."""
    if not isinstance(body, dict):
        raise FhirProblem(400, 'The request body must be a FHIR resource in JSON.', '', 'structure')
    if body.get('resourceType') != resource_type:
        raise FhirProblem(
            400, f'Expected a {resource_type} resource, got {body.get("resourceType")!r}.', 'resourceType', 'invalid'
        )
    _refuse_modifier_extensions(body, resource_type)
    try:
        model = get_fhir_model_class(resource_type).model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = _path(resource_type, tuple(first.get('loc', ())))
        raise FhirProblem(422, f'{where}: {first.get("msg", "invalid")}.', where) from None
    if body.get('text'):
        warnings.add(f'{resource_type}.text', 'The narrative is not stored; it is generated from the data.')
    _warn_unknown_extensions(body, resource_type, known_extensions, warnings)
    return model


def extension_value(extensions: list[Any] | None, url: str, kind: str) -> Any:
    """The value[x] of the first extension with this url (kind: 'valueDate', 'valueString', ...), or None."""
    for extension in extensions or []:
        if extension.url == url:
            return getattr(extension, kind, None)
    return None


def reference_id(reference: Any, resource_type: str, expression: str, resolved: dict[str, str] | None = None) -> int:
    """Our id from a reference 'Type/123' (or a transaction's urn:uuid, resolved earlier in the Bundle)."""
    text = (getattr(reference, 'reference', None) or '').strip() if reference is not None else ''
    if resolved and text in resolved:
        text = resolved[text]
    kind, _, raw = text.rpartition('/')
    kind = kind.rsplit('/', 1)[-1]
    record_id = parse_id(raw) if kind == resource_type else None
    if record_id is None:
        raise FhirProblem(
            422, f'{expression} must reference a {resource_type} of this server, as {resource_type}/<id>.', expression
        )
    return record_id


def identifier_pairs(identifiers: list[Any] | None, expression: str) -> list[tuple[str, str]]:
    """(system, value) of the source system's identifiers; each needs both to be matched again later."""
    pairs = []
    for index, identifier in enumerate(identifiers or []):
        system, value = (identifier.system or '').strip(), (identifier.value or '').strip()
        if not system or not value:
            raise FhirProblem(
                422, f'{expression}[{index}] needs a system and a value.', f'{expression}[{index}]', 'required'
            )
        if len(system) > 300 or len(value) > 200:
            raise FhirProblem(422, f'{expression}[{index}] is too long.', f'{expression}[{index}]')
        if unstorable(system + value):
            where = f'{expression}[{index}]'
            raise FhirProblem(422, f'{where} holds a control character, which cannot be saved.', where)
        pairs.append((system, value))
    return pairs


async def matched_record(resource_type: str, pairs: list[tuple[str, str]]) -> int | None:
    """The record an earlier resource with one of these identifiers created, if any."""
    for system, value in pairs:
        found = await ExternalIdentifier.get_or_none(resource_type=resource_type, system=system, value=value)
        if found is not None:
            return found.object_id
    return None


async def remember_identifiers(resource_type: str, object_id: int, pairs: list[tuple[str, str]]) -> None:
    """Keep the source system's ids of this record; one that already names another record is a conflict."""
    for system, value in pairs:
        found = await ExternalIdentifier.get_or_none(resource_type=resource_type, system=system, value=value)
        if found is None:
            try:
                await ExternalIdentifier.create(
                    resource_type=resource_type, system=system, value=value, object_id=object_id
                )
            except IntegrityError:
                raise FhirProblem(
                    409, f'Identifier {system}|{value} was just taken by another record.', 'identifier', 'conflict'
                ) from None
        elif found.object_id != object_id:
            raise FhirProblem(
                409,
                f'Identifier {system}|{value} already belongs to {resource_type}/{found.object_id}.',
                f'{resource_type}.identifier',
                'duplicate',
            )


async def identifiers_of(resource_type: str, object_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """The stored source identifiers per record, in the order they arrived (one query)."""
    rows = await ExternalIdentifier.filter(resource_type=resource_type, object_id__in=object_ids).order_by('id')
    found: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        found.setdefault(row.object_id, []).append({'system': row.system, 'value': row.value})
    return found


async def read_record(
    resource_type: str, record: Any, noun: str, to_fhir: Callable[[Any, list[dict[str, str]]], dict[str, Any]]
) -> dict[str, Any]:
    """One record as its resource, with the source systems' identifiers kept for it; a missing one is NotFound."""
    if record is None:
        raise NotFound(noun)
    return to_fhir(record, (await identifiers_of(resource_type, [record.id])).get(record.id, []))


async def ids_for_identifier(resource_type: str, token: str) -> list[int]:
    """Search `identifier=system|value` (or a bare value) among the stored source identifiers."""
    system, bar, value = token.partition('|')
    if not bar:
        system, value = '', token
    query = ExternalIdentifier.filter(resource_type=resource_type, value=value)
    if system:
        query = query.filter(system=system)
    return list(await query.values_list('object_id', flat=True))
