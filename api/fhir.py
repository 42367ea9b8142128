"""The FHIR R4 API (`/fhir/R4`): bearer tokens of API clients, SMART `system/` scopes, OperationOutcomes.

No browser session is involved: the session guard lets `/fhir` through (portal.app.TOKEN_PATHS) and every
route here requires a client's bearer token itself, answering 401 (no or bad token) or 403 (scope) with
an OperationOutcome, never a redirect to a login page. Resources are parsed with `fhir.resources` (R4B)
and written through the console's services (services.fhir_r4); every call is audited with the client
as the actor.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from models.api_client import ApiClient
from portal.ids import parse_id
from services import api_clients, audit
from services.errors import DomainError, NotFound
from services.fhir_r4 import bundle, capability, resources
from services.fhir_r4.common import FhirProblem, Warnings, problem_outcome, warning_outcome

log = logging.getLogger('portal.fhir')
PREFIX = '/fhir/R4'
FHIR_JSON = 'application/fhir+json'
SEARCH_LIMIT = 100
MAX_BODY_BYTES = 10_000_000  # a transaction of 1,000 entries fits several times over

router = APIRouter(prefix=PREFIX)


def fhir_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON, headers=headers)


def problem_response(problem: FhirProblem) -> Response:
    headers = {'WWW-Authenticate': 'Bearer realm="fhir"'} if problem.status == 401 else None
    return fhir_response(problem_outcome(problem), problem.status, headers)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else ''


async def _client(request: Request) -> ApiClient:
    header = request.headers.get('authorization', '')
    scheme, _, token = header.partition(' ')
    if scheme.lower() != 'bearer' or not token.strip():
        raise FhirProblem(401, 'A bearer token is required (Authorization: Bearer <token>).', '', 'login')
    client = await api_clients.authenticate(token.strip())
    if client is None:
        raise FhirProblem(401, 'The bearer token is not valid (unknown or revoked).', '', 'login')
    return client


def _require(client: ApiClient, resource_type: str, mode: str) -> None:
    if not api_clients.allows(client.scope_list, resource_type, mode):
        raise FhirProblem(403, f'This client has no scope for system/{resource_type}.{mode}.', '', 'forbidden')


async def _body(request: Request) -> Any:
    declared = request.headers.get('content-length', '')
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise FhirProblem(413, f'The request body is larger than {MAX_BODY_BYTES // 1_000_000} MB.', '', 'too-costly')
    raw = b''
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise FhirProblem(
                413, f'The request body is larger than {MAX_BODY_BYTES // 1_000_000} MB.', '', 'too-costly'
            )
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise FhirProblem(400, 'The request body is not valid JSON.', '', 'structure') from None


async def _handle(
    request: Request,
    resource_type: str,
    mode: str,
    interaction: str,
    work: Callable[..., Awaitable[Response]],
    object_id: int | None = None,
) -> Response:
    """Authenticate, check the scope, run, audit; any refusal becomes an OperationOutcome."""
    try:
        client = await _client(request)
    except FhirProblem as problem:
        return problem_response(problem)
    actor = api_clients.actor_of(client, _client_address(request))
    status = 500
    try:
        if resource_type not in resources.MAPPERS and resource_type != 'Bundle':
            raise FhirProblem(404, f'{resource_type} is not a resource type this server supports.', '', 'not-supported')
        if resource_type != 'Bundle':  # a transaction checks the scope of each entry's type
            _require(client, resource_type, mode)
        response = await work(actor, client) if resource_type == 'Bundle' else await work(actor)
        status = response.status_code
        return response
    except FhirProblem as problem:
        status = problem.status
        return problem_response(problem)
    except NotFound as error:
        status = 404
        return problem_response(FhirProblem(404, str(error), '', 'not-found'))
    except DomainError as error:  # a service's rule the mapping did not name more precisely
        status = 422
        return problem_response(FhirProblem(422, str(error), resource_type, 'business-rule'))
    finally:
        await audit.record(
            f'fhir.{interaction}',
            actor,
            object_type=resource_type[:30],
            object_id=object_id,
            detail={'status': status, 'path': request.url.path[:200]},
        )


@router.post('')
@router.post('/')
async def transaction(request: Request) -> Response:
    """A transaction Bundle: every entry applied, or none (one database transaction)."""

    async def work(actor: audit.Actor, client: ApiClient) -> Response:
        body = await _body(request)
        answer = await bundle.transaction(
            body, actor, lambda kind: api_clients.allows(client.scope_list, kind, 'write')
        )
        return fhir_response(answer)

    return await _handle(request, 'Bundle', 'write', 'transaction', work)  # type: ignore[arg-type]


@router.get('/metadata')
async def metadata(request: Request) -> Response:
    """The CapabilityStatement: public, like every FHIR server's."""
    return fhir_response(capability.statement(str(request.base_url).rstrip('/') + PREFIX))


@router.get('/{resource_type}')
async def search(resource_type: str, request: Request) -> Response:
    async def work(actor: audit.Actor) -> Response:
        params = {key: value for key, value in request.query_params.items() if not key.startswith('_') or key == '_id'}
        count = parse_id(request.query_params.get('_count')) or SEARCH_LIMIT
        found = await resources.search(resource_type, params, min(count, SEARCH_LIMIT))
        for entry in found:
            patient_id = resources.patient_in(entry)
            if patient_id is not None:
                await audit.record(
                    'fhir.released',
                    actor,
                    patient_id=patient_id,
                    object_type=resource_type[:30],
                    object_id=int(entry['id']),
                )
        base = str(request.base_url).rstrip('/') + PREFIX
        return fhir_response(
            {
                'resourceType': 'Bundle',
                'type': 'searchset',
                'total': len(found),
                'link': [{'relation': 'self', 'url': str(request.url)}],
                'entry': [
                    {'fullUrl': f'{base}/{resource_type}/{r["id"]}', 'resource': r, 'search': {'mode': 'match'}}
                    for r in found
                ],
            }
        )

    return await _handle(request, resource_type, 'read', 'search', work)


@router.get('/{resource_type}/{raw_id}')
async def read(resource_type: str, raw_id: str, request: Request) -> Response:
    record_id = parse_id(raw_id)

    async def work(actor: audit.Actor) -> Response:
        if record_id is None:
            raise FhirProblem(404, f'{resource_type}/{raw_id[:40]} does not exist.', '', 'not-found')
        resource = await resources.read(resource_type, record_id)
        patient_id = await resources.patient_of(resource_type, record_id)
        if patient_id is not None:
            await audit.record(
                'fhir.released', actor, patient_id=patient_id, object_type=resource_type[:30], object_id=record_id
            )
        return fhir_response(resource)

    return await _handle(request, resource_type, 'read', 'read', work, record_id)


@router.post('/{resource_type}')
async def create(resource_type: str, request: Request) -> Response:
    async def work(actor: audit.Actor) -> Response:
        body = await _body(request)
        if isinstance(body, dict) and body.get('id') is not None:
            body = {k: v for k, v in body.items() if k != 'id'}  # the server assigns ids on create
        return await _written(request, resource_type, body, actor, None)

    return await _handle(request, resource_type, 'write', 'create', work)


@router.put('/{resource_type}/{raw_id}')
async def update(resource_type: str, raw_id: str, request: Request) -> Response:
    record_id = parse_id(raw_id)

    async def work(actor: audit.Actor) -> Response:
        if record_id is None:
            raise FhirProblem(404, f'{resource_type}/{raw_id[:40]} does not exist.', '', 'not-found')
        body = await _body(request)
        if isinstance(body, dict) and body.get('id') not in (None, raw_id):
            raise FhirProblem(400, f'The resource id {body.get("id")!r} does not match the address.', 'id')
        await resources.read(resource_type, record_id)  # NotFound: this server creates no records by PUT
        return await _written(request, resource_type, body, actor, record_id)

    return await _handle(request, resource_type, 'write', 'update', work, record_id)


async def _written(
    request: Request, resource_type: str, body: Any, actor: audit.Actor, record_id: int | None
) -> Response:
    warnings = Warnings()
    new_id, created = await resources.write(resource_type, body, actor, record_id, warnings, {})
    resource = await resources.read(resource_type, new_id)
    location = str(request.base_url).rstrip('/') + f'{PREFIX}/{resource_type}/{new_id}'
    headers = {'Location': location}
    status = 201 if created else 200
    prefer = request.headers.get('prefer', '').replace(' ', '').lower()
    if warnings.items:
        log.info('FHIR %s/%s accepted with %d warning(s)', resource_type, new_id, len(warnings.items))
    # With warnings the default answer is the OperationOutcome that carries them (the Location header names
    # the record); `Prefer: return=representation` asks for the stored resource regardless.
    if 'return=operationoutcome' in prefer or (warnings.items and 'return=representation' not in prefer):
        return fhir_response(warning_outcome(warnings), status, headers)
    return fhir_response(resource, status, headers)


@router.api_route('/{rest:path}', methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], include_in_schema=False)
async def unsupported(rest: str, request: Request) -> Response:
    """Anything else under /fhir/R4 (history, delete, patch, operations): an OperationOutcome, never a page."""
    kind = rest.split('/', 1)[0][:40]  # an unknown type is a 404 from _handle, after the token check

    async def work(actor: audit.Actor) -> Response:
        raise FhirProblem(
            405,
            f'{request.method} {PREFIX}/{rest[:80]} is not supported here; see {PREFIX}/metadata.',
            '',
            'not-supported',
        )

    return await _handle(request, kind, 'read', 'unsupported', work)
