"""The append-only audit trail: the practice's evidence of who did what, when and from where."""

from dataclasses import dataclass
from typing import Any

from models.audit import AuditEvent
from models.staff import StaffUser


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
