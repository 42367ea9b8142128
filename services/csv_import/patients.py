"""Patient rows: validated by the patient form's own rules, matched to the charts already on file, then
written in batches (one transaction per chunk, each record with its audit row).

Matching: the chart number first; without one (or when no chart has it), first name + last name + date
of birth. More than one candidate, or a single candidate carrying a different chart number, is ambiguous:
the row is held for a person to resolve. A blank cell never erases what is on file, and the login email of
an active portal account is never changed (the row says so instead).
"""

import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from models.audit import AuditEvent
from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Practice
from services import audit
from services.csv_import.rows import CHART_NUMBER_ALIASES, Action, Field, RowPlan, earlier_rows
from services.email_addresses import normalize_email
from services.errors import DomainError
from services.patients import PatientInput, apply_input, derive_search_columns, fold, parse_date
from services.phones import phone_digits

LABEL = 'Patients'
FIELDS = (
    Field('chart_number', 'Chart number', aliases=CHART_NUMBER_ALIASES),
    Field('first_name', 'First name', True, ('first', 'firstname', 'given name', 'forename')),
    Field('last_name', 'Last name', True, ('last', 'lastname', 'surname', 'family name')),
    Field('date_of_birth', 'Date of birth', True, ('dob', 'birth date', 'birthdate', 'birthday', 'born')),
    Field('email', 'Email', aliases=('e-mail', 'email address', 'mail')),
    Field('phone', 'Phone', aliases=('mobile', 'cell', 'phone number', 'telephone', 'mobile phone')),
    Field('address', 'Address', aliases=('street', 'street address', 'home address')),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
TEMPLATE = [
    ['1001', 'Jamie', 'Rivera', '1985-04-12', 'jamie.rivera@example.com', '(207) 555-0134', '12 Harbor St, Portland'],
    ['1002', 'Ana', 'Müller', '04/30/1990', '', '207-555-0188', ''],
]

ACTION_LABELS = {
    Action.CREATE: 'New patient',
    Action.UPDATE: 'Update',
    Action.UNCHANGED: 'No change',
    Action.REFUSED: 'Refused',
    Action.HELD: 'Held for review',
}


@dataclass
class Prepared:
    """A row after the checks that need no database: its values, and either a valid new record or a reason."""

    row_number: int
    values: dict[str, str]
    record: Patient | None = None  # the row as a new patient, validated
    reason: str = ''  # why the row is refused


@dataclass
class PatientPlan(RowPlan):
    same_as: RowPlan | None = None  # an earlier new patient of this chunk it could be (its id comes on insert)
    seen: 'Seen | None' = None  # what the chunk was planned against


@dataclass(frozen=True)
class Seen:
    """What a chunk's plans were made against: the newest patient on file, and when the plan read."""

    last_id: int
    at: datetime


# A staff edit this close before a plan counts as after it (the clocks of two app instances may differ).
EDIT_MARGIN = timedelta(minutes=1)


def identity(values: dict[str, str]) -> tuple[str, ...]:
    """What makes two rows of one file the same patient: the chart number, else name and date of birth."""
    chart = values.get('chart_number', '').strip().lower()
    if chart:
        return ('chart', chart)
    born = parse_date(values.get('date_of_birth', ''))
    name = f'{fold(values.get("first_name"))} {fold(values.get("last_name"))}'
    return ('person', name, born.isoformat() if born else values.get('date_of_birth', ''))


def duplicates(rows: list[tuple[int, dict[str, str]]]) -> dict[int, int]:
    """row number -> the earlier row of the same patient, over the whole file (the first one wins)."""
    return earlier_rows(rows, identity)


def patient_input(values: dict[str, str]) -> PatientInput:
    return PatientInput(**{name: values.get(name, '') for name in FIELD_NAMES})


def prepare(rows: list[tuple[int, dict[str, str]]], duplicate_of: dict[int, int]) -> list[Prepared]:
    """The checks of the patient form, row by row (CPU only: runs in a thread for big files)."""
    prepared = []
    for number, values in rows:
        if number in duplicate_of:
            what = 'chart number' if values.get('chart_number') else 'name and date of birth'
            prepared.append(
                Prepared(
                    number, values, reason=f'Duplicate in the file: the same {what} as row {duplicate_of[number]}.'
                )
            )
            continue
        record = _new_patient()
        try:
            apply_input(record, patient_input(values), new=True)
        except DomainError as error:
            prepared.append(Prepared(number, values, reason=str(error)))
            continue
        prepared.append(Prepared(number, values, record=derive_search_columns(record)))
    return prepared


@cache
def _blank_patient() -> Patient:
    return Patient()


def _new_patient() -> Patient:
    """A new, unsaved patient: a copy of a blank one, the same object as `Patient()` for a tenth of the CPU
    (Tortoise looks up every field's default, 40 µs: a fifth of checking a row)."""
    record = copy.copy(_blank_patient())
    record._await_when_save = {}  # the one mutable part of a blank model, never shared
    return record


def merged_input(patient: Patient, values: dict[str, str], login_locked: bool) -> tuple[PatientInput, str]:
    """The file's values over the record's: blank cells keep what is on file; the same email or phone written
    differently is no change; an active portal account keeps its login email (the note says so)."""
    current = {
        'chart_number': patient.chart_number,
        'first_name': patient.first_name,
        'last_name': patient.last_name,
        'date_of_birth': patient.date_of_birth.isoformat(),
        'email': patient.email,
        'phone': patient.phone,
        'address': patient.address,
    }
    merged = {name: (values.get(name) or current[name]) for name in FIELD_NAMES}
    note = ''
    if normalize_email(merged['email']) == patient.email_normalized:
        merged['email'] = patient.email
    elif login_locked:
        merged['email'] = patient.email
        note = (
            f'The email address was not changed to "{values.get("email")}": this patient\'s portal is active and '
            'its login email can only be changed on the profile (disable the portal, correct it, enable it again).'
        )
    if phone_digits(merged['phone']) == patient.phone_digits:
        merged['phone'] = patient.phone
    return patient_input(merged), note


def _candidates_by_person(patients: list[Patient]) -> dict[tuple[str, date], list[Patient]]:
    found: dict[tuple[str, date], list[Patient]] = {}
    for patient in patients:
        found.setdefault((patient.search_name, patient.date_of_birth), []).append(patient)
    return found


# What matching and merging read of a patient on file, and what an update can write (with `updated_at`): no
# other timestamps, whose parsing was a fifth of the CPU of re-importing 20,000 unchanged rows on SQLite.
MATCH_COLUMNS = (
    'id',
    'chart_number',
    'first_name',
    'last_name',
    'date_of_birth',
    'email',
    'email_normalized',
    'email_valid',
    'phone',
    'phone_digits',
    'phone_reversed',
    'text_blocked_reason',
    'text_blocked_at',
    'search_name',
    'search_last',
    'address',
)


async def _patients_where(column: str, values: list) -> list[Patient]:
    """The patients whose `column` is one of `values` (MATCH_COLUMNS only).

    On PostgreSQL with one array parameter, `= ANY($1)`: Tortoise's `IN ($1, ..., $500)` is a prepared
    statement that PostgreSQL runs with a generic plan from its sixth execution on, which rebuilds the
    500-element array for every row scanned (0.1-0.3 s a chunk at 20,000 patients, more as the table grows).
    """
    if not values:
        return []
    db = Patient._meta.db
    if db.capabilities.dialect != 'postgres':
        return await Patient.filter(**{f'{column}__in': values}).only(*MATCH_COLUMNS)
    array = 'date[]' if column == 'date_of_birth' else 'text[]'
    columns = ', '.join(f'"{name}"' for name in MATCH_COLUMNS)
    rows = await db.execute_query_dict(f'SELECT {columns} FROM "patient" WHERE "{column}" = ANY($1::{array})', [values])
    return [Patient._init_from_db(**row) for row in rows]


async def plan(prepared: list[Prepared]) -> list[PatientPlan]:
    """What each row would do to the records on file now: at most four queries for the whole chunk."""
    seen = Seen(await _last_patient_id(), datetime.now(UTC))  # before the reads: see `still_current`
    valid = [p for p in prepared if p.record is not None]
    charts = sorted({p.record.chart_number for p in valid if p.record.chart_number})  # type: ignore[union-attr]
    by_chart: dict[str, list[Patient]] = {}
    for patient in await _patients_where('chart_number', charts):
        by_chart.setdefault(patient.chart_number, []).append(patient)
    unmatched = [p.record for p in valid if not by_chart.get(p.record.chart_number)]  # type: ignore[union-attr]
    names = {r.search_name for r in unmatched if r}
    born = sorted({r.date_of_birth for r in unmatched if r})
    # By birth date alone (a few patients share one), names compared here: a name like Smith can be shared
    # by thousands, so asking the database for the names as well would read more rows the bigger the practice.
    same_birth_date = await _patients_where('date_of_birth', born)
    by_person = _candidates_by_person([p for p in same_birth_date if p.search_name in names])
    plans: list[PatientPlan] = []
    new_people: dict[tuple[str, date], PatientPlan] = {}
    for item in prepared:
        record = item.record
        if record is None:
            plans.append(PatientPlan(item.row_number, Action.REFUSED, item.values, item.reason))
            continue
        matches = by_chart.get(record.chart_number, []) if record.chart_number else []
        if not matches:
            same_person = by_person.get((record.search_name, record.date_of_birth), [])
            matches = [p for p in same_person if not (p.chart_number and record.chart_number)]
            if same_person and (len(same_person) > 1 or not matches):
                plans.append(_held(item, same_person))
                continue
        if len(matches) > 1:
            plans.append(_held(item, matches))
        elif matches:
            plans.append(PatientPlan(item.row_number, Action.UPDATE, item.values, patient=matches[0]))
        elif (earlier := new_people.get((record.search_name, record.date_of_birth))) is not None:
            # As if the earlier row were on file already (it is, once this chunk commits): a person decides.
            reason = (
                f'Row {earlier.row_number} of this file has the same name and date of birth. Choose whether it is '
                'the same patient, or create a new patient.'
            )
            plans.append(PatientPlan(item.row_number, Action.HELD, item.values, reason, same_as=earlier))
        else:
            plans.append(PatientPlan(item.row_number, Action.CREATE, item.values, patient=record))
            new_people[(record.search_name, record.date_of_birth)] = plans[-1]
    await _compare(plans)
    for item in plans:
        item.seen = seen
    return plans


async def _last_patient_id() -> int:
    last = await Patient.all().order_by('-id').limit(1).values_list('id', flat=True)
    return last[0] if last else 0


async def still_current(plans: list[PatientPlan]) -> bool:
    """Inside the chunk's transaction, whether plans made before it still hold: no patient was added since
    (a new one could be a row's match), none of the patients to update was edited or deleted since, and no
    portal was enabled since for a patient whose email the file changes (its login email stays). Otherwise
    the job plans again inside the transaction. One query, two or three when the chunk updates patients.

    An edit since the plan to a patient the chunk only compared or creates beside is as if made just after
    the chunk: the result is the same as that order.
    """
    seen = next((p.seen for p in plans if p.seen is not None), None)
    if seen is None or await _last_patient_id() != seen.last_id:
        return False
    updates = [p.patient.id for p in plans if p.action == Action.UPDATE]  # type: ignore[union-attr]
    if not updates:
        return True
    stamps = await Patient.filter(id__in=updates).values_list('updated_at', flat=True)
    if len(stamps) != len(updates) or any(stamp >= seen.at - EDIT_MARGIN for stamp in stamps):
        return False
    emails = [p.patient.id for p in plans if p.action == Action.UPDATE and 'email' in p.changed]  # type: ignore[union-attr]
    return not (emails and await PortalAccount.filter(patient_id__in=emails, active_email__not_isnull=True).exists())


def _held(item: Prepared, candidates: list[Patient]) -> PatientPlan:
    charts = ', '.join(p.chart_number or 'no chart number' for p in candidates)
    reason = (
        f'{len(candidates)} patients already on file match this name and date of birth ({charts}). '
        'Choose the right one, or create a new patient.'
        if len(candidates) > 1
        else f'A patient with this name and date of birth is on file with another chart number ({charts}). '
        'Choose whether it is the same person, or create a new patient.'
    )
    return PatientPlan(item.row_number, Action.HELD, item.values, reason, candidates=[p.id for p in candidates])


async def _compare(plans: list[PatientPlan]) -> None:
    """Matched rows become update or unchanged, with the active-portal rule applied."""
    matched = [p for p in plans if p.action == Action.UPDATE]
    if not matched:
        return
    active = set(
        await PortalAccount.filter(
            patient_id__in=[p.patient.id for p in matched],  # type: ignore[union-attr]
            active_email__not_isnull=True,
        ).values_list('patient_id', flat=True)
    )
    for item in matched:
        patient = item.patient
        assert patient is not None
        data, item.reason = merged_input(patient, item.values, patient.id in active)
        try:
            item.changed = apply_input(patient, data, new=False)
        except DomainError as error:
            item.action, item.reason, item.patient = Action.REFUSED, str(error), None
            continue
        if not item.changed:
            item.action = Action.UNCHANGED


async def apply(plans: list[PatientPlan], practice: Practice, actor: audit.Actor, stamp: datetime) -> None:
    """Write the planned creates and updates with their audit rows. Call inside the chunk's transaction.

    New patients go in with one multi-row insert; their ids are read back, above the highest id before
    it, by `stamp` (this chunk's `imported_at`, unique to it), in insertion order.
    """
    creates = [p for p in plans if p.action == Action.CREATE]
    for item in creates:
        assert item.patient is not None
        item.patient.practice_id = practice.id  # type: ignore[attr-defined]
        item.patient.imported_at = stamp
    if creates:
        last = await _last_patient_id()
        await Patient.bulk_create([p.patient for p in creates])  # type: ignore[misc]
        ids = await Patient.filter(id__gt=last, imported_at=stamp).order_by('id').values_list('id', flat=True)
        if len(ids) != len(creates):
            raise RuntimeError('new patients could not be read back')  # the chunk rolls back
        for item, patient_id in zip(creates, ids, strict=True):
            item.patient.id = patient_id  # type: ignore[union-attr]
            item.patient._saved_in_db = True  # type: ignore[union-attr]
    for item in plans:
        if item.same_as is not None and item.same_as.patient is not None:
            item.candidates = [item.same_as.patient.id]
    await _write_updates([p for p in plans if p.action == Action.UPDATE], stamp)
    events: list[AuditEvent] = []
    for item in plans:
        if item.action == Action.CREATE:
            action, detail = 'patient.imported', {'row': item.row_number}
        elif item.action == Action.UPDATE:
            action, detail = 'patient.updated', {'fields': item.changed, 'row': item.row_number}
        else:
            continue
        patient_id = item.patient.id  # type: ignore[union-attr]
        events.append(
            AuditEvent(
                action=action,
                actor_type=actor.type,
                actor_id=actor.id,
                actor_label=actor.label,
                client_address=actor.client_address,
                patient_id=patient_id,
                object_type='patient',
                object_id=patient_id,
                detail=detail,
            )
        )
    if events:
        await AuditEvent.bulk_create(events)


# The columns a form field is stored in: the field itself and what is derived from it.
STORED_AS = {
    'chart_number': ('chart_number',),
    'first_name': ('first_name', 'search_name', 'search_last'),
    'last_name': ('last_name', 'search_name', 'search_last'),
    'date_of_birth': ('date_of_birth',),
    'email': ('email', 'email_normalized', 'email_valid'),
    'phone': ('phone', 'phone_digits', 'phone_reversed', 'text_blocked_reason', 'text_blocked_at'),
    'address': ('address',),
}


async def _write_updates(updates: list[PatientPlan], stamp: datetime) -> None:
    """The changed columns of the matched patients, one UPDATE per hundred patients that changed the same
    fields (an updated export tends to change one field on many rows) instead of one UPDATE per patient."""
    groups: dict[tuple[str, ...], list[Patient]] = {}
    for item in updates:
        patient = derive_search_columns(item.patient)  # type: ignore[arg-type]
        patient.updated_at = stamp
        columns = {column for name in item.changed for column in STORED_AS[name]}
        groups.setdefault((*sorted(columns), 'updated_at'), []).append(patient)
    for columns, patients in groups.items():
        await Patient.bulk_update(patients, columns, batch_size=100)


async def after_commit(plans: list[PatientPlan]) -> None:
    """Patient rows announce nothing: staff lists read the records afresh, and no portal is enabled by an import."""
