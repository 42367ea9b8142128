"""Email upkeep (domain rule 9): the patients whose address needs a receptionist's attention.

Four kinds: no address, an address that is not valid, an address shared with another patient (only
one of them can have the portal), and an address the mail server refused for good (a bounce). Each
row is derived from the current record, so fixing the address takes the row off the list.
"""

from dataclasses import dataclass
from enum import StrEnum

from tortoise.functions import Count

from models.outbox import Channel, OutboxMessage, Status
from models.patient import Patient
from services.email_addresses import is_valid_email, normalize_email

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


@dataclass(frozen=True)
class UpkeepReport:
    counts: dict[Problem, int]
    rows: list[UpkeepRow]


def _row(patient: Patient, problem: Problem, detail: str = '') -> UpkeepRow:
    return UpkeepRow(patient.id, f'{patient.last_name}, {patient.first_name}', patient.email, problem, detail)


async def email_upkeep() -> UpkeepReport:
    """Every patient whose address needs fixing, with the count per kind (rows capped per kind)."""
    fields = ('id', 'first_name', 'last_name', 'email', 'email_normalized')
    counts: dict[Problem, int] = {}
    rows: list[UpkeepRow] = []

    missing = Patient.filter(email_normalized='')
    counts[Problem.MISSING] = await missing.count()
    rows += [
        _row(p, Problem.MISSING)
        for p in await missing.order_by('search_last', 'id').limit(LIMIT_PER_KIND).only(*fields)
    ]

    invalid = [
        p
        for p in await Patient.exclude(email_normalized='').order_by('search_last', 'id').only(*fields)
        if not is_valid_email(p.email)
    ]
    counts[Problem.INVALID] = len(invalid)
    rows += [_row(p, Problem.INVALID) for p in invalid[:LIMIT_PER_KIND]]

    shared_addresses = (
        await Patient.exclude(email_normalized='')
        .annotate(n=Count('id'))
        .group_by('email_normalized')
        .filter(n__gt=1)
        .values_list('email_normalized', flat=True)
    )
    shared = (
        await Patient.filter(email_normalized__in=list(shared_addresses))
        .order_by('email_normalized', 'search_last', 'id')
        .only(*fields)
    )
    counts[Problem.SHARED] = len(shared)
    by_address: dict[str, list[Patient]] = {}
    for patient in shared:
        by_address.setdefault(patient.email_normalized, []).append(patient)
    for patient in shared[:LIMIT_PER_KIND]:
        others = [o.full_name for o in by_address[patient.email_normalized] if o.id != patient.id]
        rows.append(_row(patient, Problem.SHARED, 'Also used by ' + ', '.join(others)))

    bouncing = await _bouncing()
    counts[Problem.BOUNCING] = len(bouncing)
    rows += bouncing[:LIMIT_PER_KIND]
    return UpkeepReport(counts=counts, rows=rows)


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
