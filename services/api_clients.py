"""API clients of the FHIR API: created by an admin, holding SMART `system/` scopes and one bearer token.

The token is shown once, when the client is created; the database keeps its SHA-256 hash (like staff
sessions), so neither a leaked database nor the audit trail yields a usable token. Revoking ends it at
once. Every call a client makes is audited with the client as the actor (`audit.Actor.api_client`).
"""

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models.api_client import ApiClient
from services import audit
from services.errors import DomainError, NotFound
from services.sessions import token_hash
from services.typed_text import checked_line

# The FHIR resource types the API serves; a scope names one of them, or * for all.
RESOURCE_TYPES = ('Patient', 'Practitioner', 'Location', 'VisionPrescription', 'Appointment', 'Invoice')
SCOPE = re.compile(r'^system/(?P<type>[A-Za-z]+|\*)\.(?P<mode>read|write|\*)$')
NAME_MAX = 200
TOKEN_PREFIX = 'ecp_'  # recognisable in a secret scanner, and says what the string is
TOUCH_EVERY = timedelta(minutes=1)


class ApiClientInvalid(DomainError):
    pass


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    token: str  # shown once to the admin who created it; never stored


def validated_scopes(scopes: str | list[str]) -> list[str]:
    """SMART system scopes, such as `system/Patient.read`, `system/VisionPrescription.write`, `system/*.read`."""
    words = scopes.split() if isinstance(scopes, str) else [w.strip() for w in scopes if w.strip()]
    if not words:
        raise ApiClientInvalid('Choose at least one scope, such as system/Patient.read.')
    cleaned: list[str] = []
    for word in words:
        match = SCOPE.match(word)
        if match is None or (match['type'] != '*' and match['type'] not in RESOURCE_TYPES):
            raise ApiClientInvalid(
                f'"{word}" is not a scope this portal grants. Write system/<Resource>.<read|write|*>, where the '
                f'resource is one of {", ".join(RESOURCE_TYPES)} or *.'
            )
        if word not in cleaned:
            cleaned.append(word)
    return cleaned


def allows(scopes: list[str], resource_type: str, mode: str) -> bool:
    """Whether the scopes grant `mode` (read | write) on `resource_type`."""
    for word in scopes:
        match = SCOPE.match(word)
        if match and match['type'] in ('*', resource_type) and match['mode'] in ('*', mode):
            return True
    return False


async def create_client(name: str, scopes: str | list[str], actor: audit.Actor) -> NewClient:
    name = checked_line(
        name,
        'name',
        NAME_MAX,
        required='Name the client after the system that will use it, such as "Main EHR".',
        refuse=ApiClientInvalid,
    )
    scope_list = validated_scopes(scopes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        client = await ApiClient.create(
            name=name,
            scopes=' '.join(scope_list),
            token_hash=token_hash(token),
            created_by_id=actor.id if actor.type == 'staff' else None,
        )
        await audit.record(
            'api_client.created', actor, object_type='api_client', object_id=client.id, detail={'scopes': scope_list}
        )
    return NewClient(client, token)


async def list_clients() -> list[ApiClient]:
    """Active clients first, newest first."""
    return await ApiClient.all().order_by('revoked_at', '-created_at', '-id')


async def revoke_client(client_id: int, actor: audit.Actor) -> ApiClient:
    async with in_transaction():
        client = await ApiClient.get_or_none(id=client_id)
        if client is None:
            raise NotFound('API client')
        if client.revoked_at is None:
            client.revoked_at = datetime.now(UTC)
            await ApiClient.filter(id=client.id, revoked_at=None).update(revoked_at=client.revoked_at)
            await audit.record('api_client.revoked', actor, object_type='api_client', object_id=client.id)
    return client


async def authenticate(token: str | None) -> ApiClient | None:
    """The active client holding this bearer token, or None (unknown, malformed or revoked)."""
    if not token or len(token) > 200:
        return None
    client = await ApiClient.get_or_none(token_hash=token_hash(token), revoked_at=None)
    if client is None:
        return None
    now = datetime.now(UTC)
    if client.last_used_at is None or now - client.last_used_at >= TOUCH_EVERY:
        await ApiClient.filter(id=client.id).update(last_used_at=now)
    return client


def actor_of(client: ApiClient, client_address: str = '') -> audit.Actor:
    return audit.Actor.api_client(client.id, client.name, client_address)
