"""What the kinds that attach records to a patient already on file share (appointments, invoices): the patient
found by chart number, the source system's ids, and reading dates, times and money the way
practice systems export them.

A record row never creates a patient: an unknown chart number is refused with that reason, so a file
imported before its patients can simply be imported again once they are in.
"""

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from models.api_client import ExternalIdentifier
from models.patient import Patient
from services.errors import DomainError
from services.fhir_r4.common import BASE
from services.patients import parse_date

# Source ids from CSV files are kept like the FHIR API's identifiers, under the import's own systems: the FHIR
# API then shows them on the record, and the next import of the same file finds the record by them.
SOURCE_SYSTEMS = {
    'Invoice': BASE + '/sid/csv-import-invoice-number',
    'Appointment': BASE + '/sid/csv-import-appointment-id',
}  # by the FHIR resource type the record is read as

CLOCK = re.compile(r'^(\d{1,2})(?:[:.](\d{2}))?(?::(\d{2}))?\s*(?:([ap])\.?\s*m\.?)?$', re.IGNORECASE)
MONEY = re.compile(r'^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?$')
YES = {'y', 'yes', 'true', '1', 'x', 'taxable'}
NO = {'', 'n', 'no', 'false', '0', 'not taxable'}


class RowRefused(DomainError):
    """Why one row (or one invoice) of the file is not imported, in the receptionist's words."""


async def patients_by_chart(charts: set[str]) -> dict[str, list[Patient]]:
    """Chart number -> the patients on file with it (one query for the chunk)."""
    found: dict[str, list[Patient]] = {}
    if charts:
        for patient in await Patient.filter(chart_number__in=sorted(charts)):
            found.setdefault(patient.chart_number, []).append(patient)
    return found


def patient_for(chart: str, by_chart: dict[str, list[Patient]]) -> Patient:
    """The one patient with this chart number, or RowRefused saying why not."""
    if not chart:
        raise RowRefused("The chart number is missing: each row names the patient by the practice's chart number.")
    matches = by_chart.get(chart, [])
    if not matches:
        raise RowRefused(
            f'No patient with chart number {chart} is on file. Import the patients first, or correct the chart number.'
        )
    if len(matches) > 1:
        raise RowRefused(f'{len(matches)} patients on file have chart number {chart}: give them distinct ones first.')
    return matches[0]


async def source_records(kind: str, values: set[str]) -> dict[str, int]:
    """Source id -> our record's id, for the ids an earlier import (of this kind) kept."""
    if not values:
        return {}
    rows = await ExternalIdentifier.filter(
        resource_type=kind, system=SOURCE_SYSTEMS[kind], value__in=sorted(values)
    ).values_list('value', 'object_id')
    return dict(rows)  # type: ignore[arg-type]


def source_identifier(kind: str, value: str, object_id: int) -> ExternalIdentifier:
    return ExternalIdentifier(resource_type=kind, system=SOURCE_SYSTEMS[kind], value=value, object_id=object_id)


def parse_day(text: str, what: str) -> date:
    """YYYY-MM-DD or MM/DD/YYYY (the patients import's formats), or RowRefused naming the column."""
    day = parse_date(text)
    if day is None:
        raise RowRefused(f'The {what} "{text}" is not a date: write it as YYYY-MM-DD or MM/DD/YYYY.')
    return day


def parse_clock(text: str, what: str) -> time:
    """'9:30', '09:30:00', '14:00', '2:30 PM', '9am': a wall-clock time, or RowRefused naming the column."""
    match = CLOCK.match(text.strip())
    if match is not None:
        hour, minute, second = int(match[1]), int(match[2] or 0), int(match[3] or 0)
        meridiem = (match[4] or '').lower()
        if meridiem and 1 <= hour <= 12:
            hour = hour % 12 + (12 if meridiem == 'p' else 0)
        elif meridiem:
            hour = 99
        if (match[2] or meridiem) and hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise RowRefused(f'The {what} "{text}" is not a time of day: write it as 14:30 or 2:30 PM.')


def parse_moment(day_text: str, clock_text: str, what: str) -> tuple[date, time] | datetime:
    """A date and a time as the practice's wall clock; or, when the date column carries an ISO time with its
    offset ('2025-03-04T14:30:00Z'), that instant."""
    day_text, clock_text = day_text.strip(), clock_text.strip()
    if not clock_text:
        try:
            instant = datetime.fromisoformat(day_text.replace('Z', '+00:00'))
        except ValueError:
            instant = None
        if instant is not None and instant.tzinfo is not None:
            return instant
        day_text, _, clock_text = day_text.replace('T', ' ', 1).partition(' ')
        if not clock_text.strip():
            raise RowRefused(f'The {what} "{day_text}" has no time of day: add the time, or map a time column.')
    return parse_day(day_text, f'{what} date'), parse_clock(clock_text, f'{what} time')


def parse_cents(text: str, what: str) -> int:
    """'$1,234.50', '1234.5' or '12' in cents. Anything else is refused, never guessed: '12.345' (a third
    decimal), '12,50' (a decimal comma), '1,2345', '-5' or 'USD 5'."""
    raw = text.strip()
    match = MONEY.match(raw)
    if match is None:
        raise RowRefused(
            f'The {what} "{text}" is not an amount in dollars and cents: write it as 1234.50 or $1,234.50.'
        )
    try:
        amount = Decimal(match[1].replace(',', '') + (match[2] or ''))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise RowRefused(f'The {what} "{text}" is not an amount in dollars and cents.') from None
    return int(amount * 100)


def parse_count(text: str, what: str, default: int) -> int:
    raw = text.strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise RowRefused(f'The {what} "{text}" must be a whole number.')
    return int(raw)


def parse_yes_no(text: str, what: str) -> bool:
    raw = text.strip().lower()
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise RowRefused(f'The {what} "{text}" must be yes or no.')
