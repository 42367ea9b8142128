"""The append-only audit trail: the practice's evidence of who did what, when and from where."""

from dataclasses import dataclass
from typing import Any

from models.audit import AuditEvent


@dataclass(frozen=True)
class Actor:
    type: str  # staff | patient | system
    id: int | None = None
    label: str = ''
    client_address: str = ''


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
    return await AuditEvent.create(
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        client_address=actor.client_address,
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
        detail=detail or {},
    )


async def events_for_patient(patient_id: int, limit: int = 50) -> list[AuditEvent]:
    return await AuditEvent.filter(patient_id=patient_id).order_by('-at', '-id').limit(limit)
