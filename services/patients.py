"""Patient records: saving keeps the derived search columns right; search serves the staff console.

Search runs on derived columns that hold plain lowercase ASCII (`search_name` 'first last',
`search_last` 'last first', `email_normalized`, `phone_digits`) or the date of birth. A prefix is
looked up as a half-open range (`>= 'rive'` and `< 'rivf'`): unlike LIKE, a range uses an ordinary
B-tree index on SQLite (binary collation) and on PostgreSQL whatever the database's collation, so
search stays a few index probes at 100,000 patients.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Practice
from services import audit
from services.email_addresses import is_valid_email, normalize_email, validated_email
from services.errors import DomainError, NotFound
from services.phones import (  # noqa: F401 - re-exported: pages and tests import them from here
    InvalidPhone,
    _digits,
    display_phone,
    phone_digits,
    phone_e164,
    textable_phone,
    validated_phone,
)
from services.portal_access import ensure_email_change_allowed
from services.setup_status import require_setup
from services.typed_text import UNSTORABLE_SENTENCE, findable, one_line, quoted, unstorable

ISO_DATE = re.compile(r'^(\d{4})-(\d{1,2})-(\d{1,2})$')
US_DATE = re.compile(r'^(\d{1,2})/(\d{1,2})/(\d{4})$')
PHONE_QUERY = re.compile(r'^[\d\s().+-]+$')
_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz'


class PatientInvalid(DomainError):
    """A field of the patient form is wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class PatientRow:
    """One line of the staff search results, with its portal status from the same page of results."""

    id: int
    first_name: str
    last_name: str
    date_of_birth: date
    email: str
    phone: str
    portal_status: str  # active | disabled | none

    @property
    def name(self) -> str:
        return f'{self.last_name}, {self.first_name}'


@dataclass(frozen=True)
class PatientInput:
    """What staff type into the patient form, before validation."""

    first_name: str
    last_name: str
    date_of_birth: str
    email: str = ''
    phone: str = ''
    address: str = ''
    chart_number: str = ''


# ---------------------------------------------------------------------------------------------
# derived columns


def fold(text: str | None) -> str:
    """Lowercase ASCII words: 'Zoë O'Brien-Smith' -> 'zoe obrien smith'. Applied to stored names and queries alike."""
    text = unicodedata.normalize('NFKD', text or '').encode('ascii', 'ignore').decode().lower()
    text = re.sub(r"['’`]", '', text)
    return ' '.join(re.sub(r'[^a-z0-9]+', ' ', text).split())


def derive_search_columns(patient: Patient) -> Patient:
    """Fill the normalised email, phone digits and search names from what was typed (no database round trip,
    so bulk loads can use it too)."""
    patient.email = (patient.email or '').strip()
    patient.email_normalized = normalize_email(patient.email)
    patient.email_valid = is_valid_email(patient.email)
    patient.phone_digits = phone_digits(patient.phone)
    patient.phone_reversed = patient.phone_digits[::-1]
    first, last = fold(patient.first_name), fold(patient.last_name)
    patient.search_name = f'{first} {last}'.strip()[:210]
    patient.search_last = f'{last} {first}'.strip()[:210]
    return patient


async def save_patient(patient: Patient) -> Patient:
    """Save with the derived search columns, so search finds the patient the way staff type them."""
    await derive_search_columns(patient).save()
    return patient


# ---------------------------------------------------------------------------------------------
# search


def _successor(prefix: str) -> str | None:
    """A string above every string that starts with `prefix` (None when there is none).

    Drops trailing characters that cannot be incremented ('z', '9' carry; punctuation and spaces are
    simply cut), then increments the last letter or digit: the bound is plain ASCII and sorts the same
    way in every collation.
    """
    chars = list(prefix)
    while chars:
        position = _ALPHABET.find(chars.pop())
        if 0 <= position < len(_ALPHABET) - 1:
            return ''.join(chars) + _ALPHABET[position + 1]
    return None


def _prefix(column: str, prefix: str) -> Q | None:
    """Index-friendly `column LIKE 'prefix%'`: a range the index can seek, then the exact test. None when no
    stored value can start with it (longer than the column, or a control character), so nothing is asked."""
    if not findable(prefix, Patient._meta.fields_map[column].max_length):
        return None
    condition = Q(**{f'{column}__gte': prefix, f'{column}__startswith': prefix})
    if (upper := _successor(prefix)) is not None:
        condition &= Q(**{f'{column}__lt': upper})
    return condition


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD or MM/DD/YYYY, as receptionists type dates of birth; None when it is neither."""
    text = text.strip()
    try:
        if match := ISO_DATE.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := US_DATE.match(text):
            return date(int(match[3]), int(match[1]), int(match[2]))
    except ValueError:
        return None
    return None


def _search_plan(query: str) -> list[tuple[Q, str]]:
    return [(condition, order) for condition, order in _candidate_plan(query) if condition is not None]


def _candidate_plan(query: str) -> list[tuple[Q | None, str]]:
    """What to look up, as (condition, index column to order by) pairs, most telling first.

    Each pair is its own query ordered by the indexed column it filters on, so the database walks the
    index in order and stops at the limit, even for a one-letter query that matches half the practice.
    """
    query = query.strip()
    if not query:
        return []
    if (born := parse_date(query)) is not None:
        return [(Q(date_of_birth=born), 'search_last')]
    if '@' in query:
        return [(_prefix('email_normalized', normalize_email(query)), 'email_normalized')]
    if PHONE_QUERY.match(query) and len(digits := _digits(query)) >= 3:
        if len(digits) == 11 and digits.startswith('1'):
            digits = digits[1:]
        # The whole number or its start, then its end ('0134', '5550134'): a suffix is a prefix of the reversed digits.
        return [
            (_prefix('phone_digits', digits), 'phone_digits'),
            (_prefix('phone_reversed', digits[::-1]), 'phone_reversed'),
        ]
    if ',' in query:  # 'rivera, jamie'
        last, _, first = query.partition(',')
        key = f'{fold(last)} {fold(first)}'.strip()
        return [(_prefix('search_last', key), 'search_last')] if key else []
    key = fold(query)
    if not key:
        return []
    return [(_prefix('search_last', key), 'search_last'), (_prefix('search_name', key), 'search_name')]


async def search_patients(query: str, limit: int = 50) -> list[PatientRow]:
    """Patients matching a name ('jamie', 'rivera', 'rivera, jamie'), email, phone or date of birth.

    A bare name matches last names first, then first names ('jamie rivera' and 'rivera jamie' both work).
    At most three queries whatever the number of results: one or two for patients, one for portal status.
    """
    found: dict[int, Patient] = {}
    for condition, order in _search_plan(query):
        if len(found) >= limit:
            break
        rows = (
            await Patient.filter(condition)
            .order_by(order, 'id')
            .limit(limit)
            .only('id', 'first_name', 'last_name', 'date_of_birth', 'email', 'phone')
        )
        for patient in rows:
            found.setdefault(patient.id, patient)
    patients = list(found.values())[:limit]
    if not patients:
        return []
    accounts = await PortalAccount.filter(patient_id__in=[p.id for p in patients]).values_list(
        'patient_id', 'active_email'
    )
    status = {patient_id: 'active' if active else 'disabled' for patient_id, active in accounts}
    return [
        PatientRow(
            id=p.id,
            first_name=p.first_name,
            last_name=p.last_name,
            date_of_birth=p.date_of_birth,
            email=p.email,
            phone=p.phone,
            portal_status=status.get(p.id, 'none'),
        )
        for p in patients
    ]


# ---------------------------------------------------------------------------------------------
# the patient form


def _validated_text(value: str, label: str, max_length: int, *, required: bool = False) -> str:
    value = one_line(value)
    if required and not value:
        raise PatientInvalid(f'Please enter the {label}.')
    if len(value) > max_length:
        raise PatientInvalid(f'The {label} is too long (at most {max_length} characters).')
    if unstorable(value):
        raise PatientInvalid(UNSTORABLE_SENTENCE.format(label=label))
    return value


def _validated_name(value: str, label: str) -> str:
    return _validated_text(value, label, 100, required=True)


def _validated_birth_date(text: str) -> date:
    text = (text or '').strip()
    if not text:
        raise PatientInvalid('Please enter the date of birth.')
    born = parse_date(text)
    if born is None:
        raise PatientInvalid(f'{quoted(text)} is not a date. Enter the date of birth as MM/DD/YYYY or YYYY-MM-DD.')
    if born > date.today():
        raise PatientInvalid('The date of birth cannot be in the future.')
    if born.year < 1900:
        raise PatientInvalid('Please check the year of birth.')
    return born


def _apply(patient: Patient, data: PatientInput, *, new: bool) -> list[str]:
    """Validate and copy the form onto the record; returns the names of the fields that changed.

    Email and phone are checked when they are new or changed, so an old record with a bad number
    can still be saved while staff correct something else.
    """
    values = {
        'first_name': _validated_name(data.first_name, 'first name'),
        'last_name': _validated_name(data.last_name, 'last name'),
        'date_of_birth': _validated_birth_date(data.date_of_birth),
        'address': _validated_text(data.address, 'address', 300),
        'chart_number': _validated_text(data.chart_number, 'chart number', 30),
    }
    email, phone = (data.email or '').strip(), (data.phone or '').strip()
    if email and (new or email != patient.email):
        email = validated_email(email)
    values['email'] = email
    if new or phone_digits(phone) != patient.phone_digits:
        phone = validated_phone(phone)
        if not new:  # a STOP belonged to the old number
            patient.text_blocked_reason, patient.text_blocked_at = '', None
    values['phone'] = phone
    changed = [name for name, value in values.items() if new or getattr(patient, name) != value]
    for name, value in values.items():
        setattr(patient, name, value)
    return changed


def apply_input(patient: Patient, data: PatientInput, *, new: bool) -> list[str]:
    """The form's rules for other writers (CSV import): validate `data` onto `patient`, return what changed."""
    return _apply(patient, data, new=new)


async def get_patient(patient_id: int) -> Patient:
    """The patient with its practice (for the time zone and messages); NotFound otherwise."""
    patient = await Patient.get_or_none(id=patient_id).select_related('practice')
    if patient is None:
        raise NotFound('patient')
    return patient


async def create_patient(data: PatientInput, actor: audit.Actor, practice: Practice | None = None) -> Patient:
    """A new patient, once the practice is set up (SetupIncomplete says what is missing, before any typing
    is checked: the page asks first, so nobody fills in a form that cannot be saved)."""
    practice = practice or await require_setup()
    patient = Patient(practice=practice)
    _apply(patient, data, new=True)
    async with in_transaction():  # a staff edit and its audit row are written together or not at all
        await save_patient(patient)
        await audit.record('patient.created', actor, patient_id=patient.id, object_type='patient', object_id=patient.id)
    return patient


async def update_patient(patient_id: int, data: PatientInput, actor: audit.Actor) -> Patient:
    """Staff edit of the demographics; the login email stays fixed while the portal is active (rule 5)."""
    patient = await get_patient(patient_id)
    changed = _apply(patient, data, new=False)
    if 'email' in changed:
        await ensure_email_change_allowed(patient.id, patient.email)
    if not changed:
        return patient
    async with in_transaction():
        await save_patient(patient)
        await audit.record(
            'patient.updated',
            actor,
            patient_id=patient.id,
            object_type='patient',
            object_id=patient.id,
            detail={'fields': changed},
        )
    return patient
