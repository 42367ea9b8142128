"""The append-only audit trail: the practice's evidence of who did what, when and from where."""

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models.audit import AuditEvent
from models.staff import StaffUser
from services.typed_text import findable, storable


@dataclass(frozen=True)
class Actor:
    type: str  # staff | patient | system | api (a FHIR API client)
    id: int | None = None
    label: str = ''
    client_address: str = ''

    @classmethod
    def staff(cls, staff: StaffUser, client_address: str = '') -> 'Actor':
        return cls('staff', staff.id, staff.name, client_address)

    @classmethod
    def patient(cls, account_id: int, client_address: str = '') -> 'Actor':
        """Patients are named by portal account id only: the audit row needs no copy of their name."""
        return cls('patient', account_id, 'patient', client_address)

    @classmethod
    def api_client(cls, client_id: int, name: str, client_address: str = '') -> 'Actor':
        """A backend system calling the FHIR API: audited like a staff member, under the client's own name."""
        return cls('api', client_id, name, client_address)


SYSTEM = Actor(type='system', label='system')


async def record(
    action: str,
    actor: Actor,
    *,
    patient_id: int | None = None,
    object_type: str = '',
    object_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """One row of evidence. What a request carried (a forged path, a NUL byte) is kept with its control
    characters shown as �: PostgreSQL refuses NUL in text and JSON, and the record must still be written."""
    return await AuditEvent.create(
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=storable(actor.label),
        client_address=storable(actor.client_address),
        patient_id=patient_id,
        object_type=storable(object_type),
        object_id=object_id,
        detail=_storable(detail or {}),
    )


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(key)): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


async def events_for_patient(patient_id: int, limit: int = 50) -> list[AuditEvent]:
    return await AuditEvent.filter(patient_id=patient_id).order_by('-at', '-id').limit(limit)


async def chart_opened(patient_id: int, actor: Actor) -> None:
    """A staff member opened the patient's profile: the admin's "who opened this chart" reads these."""
    await record('patient.chart_opened', actor, patient_id=patient_id, object_type='patient', object_id=patient_id)


# -- reading the trail (the admin's Audit page and its CSV export) ---------------------------------------

MAX_ROWS = 1000  # the page and the export stop here; narrower filters reach older rows
CSV_HEADER = ['time_utc', 'action', 'actor_type', 'actor_id', 'actor', 'patient_id', 'object', 'client', 'detail']


@dataclass(frozen=True)
class TrailFilter:
    """Each part narrows the trail; empty ones do not. `actor` is 'staff:<id>', 'patient' or 'system';
    `since`/`until` are aware datetimes (the page turns the practice's dates into them)."""

    patient_id: int | None = None
    actor: str = ''
    action: str = ''
    since: datetime | None = None
    until: datetime | None = None


async def trail(where: TrailFilter, limit: int = MAX_ROWS) -> list[AuditEvent]:
    """Newest first, at most `limit` rows."""
    query = AuditEvent.all()
    if where.patient_id is not None:
        query = query.filter(patient_id=where.patient_id)
    if where.actor.startswith('staff:') and where.actor[6:].isascii() and where.actor[6:].isdigit():
        query = query.filter(actor_type='staff', actor_id=int(where.actor[6:]))
    elif where.actor in ('patient', 'system', 'api'):
        query = query.filter(actor_type=where.actor)
    if where.action:
        if not findable(where.action, 50):  # a forged choice: no action is named like that
            return []
        query = query.filter(action=where.action)
    if where.since is not None:
        query = query.filter(at__gte=where.since)
    if where.until is not None:
        query = query.filter(at__lt=where.until)
    return await query.order_by('-at', '-id').limit(limit)


async def known_actions() -> list[str]:
    """Every action the trail holds, for the filter's choices."""
    return sorted(await AuditEvent.all().distinct().values_list('action', flat=True))


def trail_csv(events: list[AuditEvent]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for event in events:
        writer.writerow(
            [
                event.at.astimezone(UTC).isoformat(timespec='seconds'),
                event.action,
                event.actor_type,
                '' if event.actor_id is None else event.actor_id,
                _cell(event.actor_label),
                '' if event.patient_id is None else event.patient_id,
                f'{event.object_type} {event.object_id}'.strip() if event.object_type else '',
                event.client_address,
                _cell(json.dumps(event.detail, sort_keys=True, ensure_ascii=False)),
            ]
        )
    return buffer.getvalue()


def _cell(text: str) -> str:
    """Spreadsheets run a cell that starts like a formula: quote it (CSV injection)."""
    return "'" + text if text[:1] in ('=', '+', '-', '@', '\t', '\r') else text
