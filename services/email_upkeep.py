"""Email upkeep (domain rule 9): the patients whose address needs a receptionist's attention.

Four kinds: no address, an address that is not valid, an address shared with another patient (only
one of them can have the portal), and an address the mail server refused for good (a bounce). Each
row is derived from the current record, so fixing the address takes the row off the list.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from models.outbox import Channel, OutboxMessage, Status
from models.patient import Patient
from models.portal_account import PortalAccount
from services.email_addresses import normalize_email

LIMIT_PER_KIND = 200


class Problem(StrEnum):
    MISSING = 'missing'
    INVALID = 'invalid'
    SHARED = 'shared'
    BOUNCING = 'bouncing'


PROBLEM_LABELS = {
    Problem.MISSING: 'No email address',
    Problem.INVALID: 'Not a valid address',
    Problem.SHARED: 'Shared with another patient',
    Problem.BOUNCING: 'Bouncing (refused by the mail server)',
}


@dataclass(frozen=True)
class UpkeepRow:
    patient_id: int
    name: str  # 'Last, First'
    email: str
    problem: Problem
    detail: str = ''
    imported_at: datetime | None = None  # brought in by a CSV import


@dataclass(frozen=True)
class ReadyRow:
    """An imported patient whose own valid address would let staff enable the portal today."""

    patient_id: int
    name: str  # 'Last, First'
    email: str
    imported_at: datetime


@dataclass(frozen=True)
class UpkeepReport:
    counts: dict[Problem, int]
    rows: list[UpkeepRow]
    imported_ready: int  # imported patients the portal could be enabled for now
    ready_rows: list[ReadyRow]
    imported_needing_address: int  # imported patients among the rows above (each counted once)


FIELDS = ('id', 'first_name', 'last_name', 'email', 'email_normalized', 'imported_at')


def _name(patient: Patient) -> str:
    return f'{patient.last_name}, {patient.first_name}'


def _row(patient: Patient, problem: Problem, detail: str = '') -> UpkeepRow:
    return UpkeepRow(patient.id, _name(patient), patient.email, problem, detail, patient.imported_at)


def _shared_addresses() -> QuerySet[Patient]:
    """Addresses on more than one chart (as a subquery: there may be thousands after an import)."""
    return Patient.exclude(email_normalized='').annotate(n=Count('id')).group_by('email_normalized').filter(n__gt=1)


async def email_upkeep() -> UpkeepReport:
    """Every patient whose address needs fixing, with the count per kind (rows capped per kind)."""
    fields = FIELDS
    counts: dict[Problem, int] = {}
    rows: list[UpkeepRow] = []

    missing = Patient.filter(email_normalized='')
    counts[Problem.MISSING] = await missing.count()
    rows += [
        _row(p, Problem.MISSING)
        for p in await missing.order_by('search_last', 'id').limit(LIMIT_PER_KIND).only(*fields)
    ]

    invalid = Patient.exclude(email_normalized='').filter(email_valid=False)
    counts[Problem.INVALID] = await invalid.count()
    rows += [
        _row(p, Problem.INVALID)
        for p in await invalid.order_by('search_last', 'id').limit(LIMIT_PER_KIND).only(*fields)
    ]

    shared_query = Patient.filter(email_normalized__in=Subquery(_shared_addresses().values('email_normalized')))
    counts[Problem.SHARED] = await shared_query.count()
    shown = await shared_query.order_by('email_normalized', 'search_last', 'id').limit(LIMIT_PER_KIND).only(*fields)
    by_address: dict[str, list[tuple[int, str]]] = {}
    for address, patient_id, first, last in (
        await Patient.filter(email_normalized__in=list({p.email_normalized for p in shown}))
        .order_by('search_last', 'id')
        .values_list('email_normalized', 'id', 'first_name', 'last_name')
    ):
        by_address.setdefault(address, []).append((patient_id, f'{first} {last}'))
    for patient in shown:
        others = [name for other_id, name in by_address[patient.email_normalized] if other_id != patient.id]
        rows.append(_row(patient, Problem.SHARED, 'Also used by ' + ', '.join(others)))

    bouncing = await _bouncing()
    counts[Problem.BOUNCING] = len(bouncing)
    rows += bouncing[:LIMIT_PER_KIND]

    ready = (
        Patient.filter(imported_at__not_isnull=True, email_valid=True)
        .exclude(email_normalized__in=Subquery(_shared_addresses().values('email_normalized')))
        .exclude(id__in=Subquery(PortalAccount.filter(active_email__not_isnull=True).values('patient_id')))
        .exclude(id__in=[row.patient_id for row in bouncing])
    )
    ready_rows = [
        ReadyRow(p.id, _name(p), p.email, p.imported_at)
        for p in await ready.order_by('-imported_at', 'search_last', 'id').limit(LIMIT_PER_KIND).only(*fields)
    ]
    needing = Patient.filter(imported_at__not_isnull=True).filter(
        Q(email_normalized='')
        | Q(email_valid=False)
        | Q(email_normalized__in=Subquery(_shared_addresses().values('email_normalized')))
        | Q(id__in=[row.patient_id for row in bouncing])
    )
    return UpkeepReport(
        counts=counts,
        rows=rows,
        imported_ready=await ready.count(),
        ready_rows=ready_rows,
        imported_needing_address=await needing.count(),
    )


async def _bouncing() -> list[UpkeepRow]:
    """Patients whose current address was refused for good, with no later message to it accepted."""
    refused = await OutboxMessage.filter(
        channel=Channel.EMAIL, status=Status.FAILED, permanent_failure=True, patient_id__not_isnull=True
    ).values_list('patient_id', 'to_address', 'id', 'last_error')
    if not refused:
        return []
    patient_ids = {patient_id for patient_id, *_ in refused}
    accepted = await OutboxMessage.filter(
        channel=Channel.EMAIL, status=Status.SENT, patient_id__in=list(patient_ids)
    ).values_list('patient_id', 'to_address', 'id')
    last_accepted: dict[tuple[int, str], int] = {}
    for patient_id, address, message_id in accepted:
        key = (patient_id, normalize_email(address))
        last_accepted[key] = max(last_accepted.get(key, 0), message_id)
    patients = {p.id: p for p in await Patient.filter(id__in=list(patient_ids))}
    found: dict[int, UpkeepRow] = {}
    for patient_id, address, message_id, error in sorted(refused, key=lambda r: r[2]):
        patient = patients.get(patient_id)
        key = (patient_id, normalize_email(address))
        if patient is None or patient.email_normalized != key[1] or last_accepted.get(key, 0) > message_id:
            continue
        found[patient_id] = _row(patient, Problem.BOUNCING, error[:200])
    return sorted(found.values(), key=lambda row: (row.name.lower(), row.patient_id))
