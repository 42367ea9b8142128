"""Clinical validation of a prescription as a technician types it, with messages a technician understands.

The form hands over text (what was typed); this module turns it into numbers or refuses it with the
sentence to show next to the form. Values are stored as written: a plus-cylinder Rx stays plus-cylinder.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from models.prescription import RxKind, RxPurpose
from services.errors import DomainError
from services.typed_text import UNSTORABLE_SENTENCE, one_line, quoted, unstorable

EYES = ('OD', 'OS')
EYE_NAMES = {'OD': 'Right eye (OD)', 'OS': 'Left eye (OS)'}
QUARTER = Decimal('0.25')
SPHERE_LIMIT = Decimal('30')
CYLINDER_LIMIT = Decimal('15')
ADD_MIN, ADD_MAX = Decimal('0.50'), Decimal('4.00')
PRISM_MAX = Decimal('20')
PD_BINOCULAR = (Decimal('40'), Decimal('85'))
PD_MONOCULAR = (Decimal('20'), Decimal('43'))
BASE_CURVE = (Decimal('6.00'), Decimal('10.50'))
DIAMETER = (Decimal('7.0'), Decimal('24.0'))
ADD_LEVELS = ('LOW', 'MED', 'HIGH')
HORIZONTAL_BASES = ('BI', 'BO')
VERTICAL_BASES = ('BU', 'BD')
DOMINANCE = ('D', 'N')
PLANO_WORDS = ('PL', 'PLANO', 'PLAN')
SPHERE_ONLY_WORDS = ('DS', 'SPH', 'SPHERE')
TEXT_MAX = 100
NOTES_MAX = 2000
REASON_MAX = 300


class InvalidPrescription(DomainError):
    """What is wrong with the Rx form, in the words of the person typing it."""


@dataclass
class EyeInput:
    """One eye as typed: every value is text, blank when not given."""

    sphere: str = ''
    cylinder: str = ''
    axis: str = ''
    add: str = ''
    prism_horizontal: str = ''
    prism_horizontal_base: str = ''
    prism_vertical: str = ''
    prism_vertical_base: str = ''
    base_curve: str = ''
    diameter: str = ''
    dominance: str = ''
    manufacturer: str = ''
    brand: str = ''


@dataclass
class RxInput:
    """A whole prescription as typed on the console form."""

    kind: str
    provider_id: int | None
    exam_date: date | None
    issue_date: date | None = None  # defaults to the practice's today
    purpose: str = ''
    expiry_date: date | None = None  # defaults by kind (CL one calendar year, spectacles per practice setting)
    expiry_reason: str = ''
    notes: str = ''
    pd_binocular: str = ''
    pd_od: str = ''
    pd_os: str = ''
    replacement_schedule: str = ''
    eyes: dict[str, EyeInput] = field(default_factory=lambda: {eye: EyeInput() for eye in EYES})


@dataclass(frozen=True)
class EyeValues:
    eye: str
    sphere: Decimal
    cylinder: Decimal | None = None
    axis: int | None = None
    add: Decimal | None = None
    add_level: str = ''
    dominance: str = ''
    prism: Decimal | None = None
    prism_base: str = ''
    prism_vertical: Decimal | None = None
    prism_vertical_base: str = ''
    manufacturer: str = ''
    brand: str = ''
    base_curve: Decimal | None = None
    diameter: Decimal | None = None


@dataclass(frozen=True)
class RxValues:
    """A validated prescription, ready to store."""

    kind: RxKind
    provider_id: int
    exam_date: date
    issue_date: date
    expiry_date: date
    purpose: RxPurpose | None
    expiry_reason: str
    notes: str
    pd_binocular: Decimal | None
    pd_od: Decimal | None
    pd_os: Decimal | None
    replacement_schedule: str
    eyes: tuple[EyeValues, ...]


def add_months(start: date, months: int) -> date:
    """The same day `months` later; the 31st falls back to the month's last day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def one_calendar_year_after(start: date) -> date:
    """2027-06-01 -> 2028-06-01; February 29 -> March 1, so the year is never a day short."""
    try:
        return start.replace(year=start.year + 1)
    except ValueError:
        return date(start.year + 1, 3, 1)


def _number(text: str, where: str, what: str) -> Decimal | None:
    cleaned = (text or '').strip().replace(' ', '').replace('\u2212', '-')
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidPrescription(f'{where}: {what} {quoted(text)} is not a number.') from None
    # '1e999999' is a Decimal, but writing it out in the refusal would take a megabyte
    if not value.is_finite() or not -10 <= value.adjusted() <= 10:
        raise InvalidPrescription(f'{where}: {what} {quoted(text)} is not a number.')
    return value


def _in_quarters(value: Decimal) -> bool:
    return value % QUARTER == 0


def _power(text: str, where: str, what: str, limit: Decimal) -> Decimal | None:
    value = _number(text, where, what)
    if value is None:
        return None
    if not -limit <= value <= limit:
        raise InvalidPrescription(
            f'{where}: {what} must be between -{limit:.2f} and +{limit:.2f}; {value:+.2f} is not.'
        )
    if not _in_quarters(value):
        raise InvalidPrescription(
            f'{where}: {what} goes in 0.25 D steps (for example -2.25 or -2.50); {value:+.2f} is not one.'
        )
    return value.quantize(Decimal('0.01'))


def _sphere(text: str, where: str, what: str) -> Decimal:
    if (text or '').strip().upper() in PLANO_WORDS:
        return Decimal('0.00')
    value = _power(text, where, what, SPHERE_LIMIT)
    if value is None:
        raise InvalidPrescription(f'{where}: enter the {what} (PL or 0.00 for plano).')
    return value


def _cylinder_and_axis(eye: EyeInput, where: str) -> tuple[Decimal | None, int | None]:
    written = (eye.cylinder or '').strip().upper()
    cylinder = None if written in SPHERE_ONLY_WORDS else _power(eye.cylinder, where, 'cylinder', CYLINDER_LIMIT)
    if cylinder == 0:
        cylinder = None  # 0.00 cylinder is a sphere-only eye: printed DS
    axis_text = (eye.axis or '').strip()
    if cylinder is None:
        if axis_text:
            raise InvalidPrescription(
                f'{where}: an axis is only written with a cylinder; clear the axis or add the cylinder.'
            )
        return None, None
    if not axis_text:
        raise InvalidPrescription(f'{where}: a cylinder needs an axis (a whole number from 1 to 180).')
    # ASCII digits, at most 3: '²' counts as a digit to isdigit() but not to int(), and int() refuses 5,000 digits
    if not (axis_text.isascii() and axis_text.isdigit()) or len(axis_text) > 3 or not 1 <= int(axis_text) <= 180:
        raise InvalidPrescription(
            f'{where}: the axis must be a whole number from 1 to 180; {quoted(axis_text)} is not.'
        )
    return cylinder, int(axis_text)


def _add(text: str, where: str, contact_lens: bool) -> tuple[Decimal | None, str]:
    written = (text or '').strip().upper()
    if contact_lens and written in ADD_LEVELS:
        return None, written
    hint = ' (or LOW, MED or HIGH for a contact lens)' if contact_lens else ''
    try:
        value = _number(text, where, 'add')
    except InvalidPrescription:
        if not contact_lens:
            raise
        raise InvalidPrescription(f'{where}: the add must be from +0.50 to +4.00 in 0.25 D steps{hint}.') from None
    if value is None:
        return None, ''
    if not ADD_MIN <= value <= ADD_MAX or not _in_quarters(value):
        raise InvalidPrescription(
            f'{where}: the add must be from +0.50 to +4.00 in 0.25 D steps{hint}; {value:+.2f} is not.'
        )
    return value.quantize(Decimal('0.01')), ''


def _prism(amount: str, base: str, bases: tuple[str, ...], where: str, what: str) -> tuple[Decimal | None, str]:
    value = _number(amount, where, f'{what} prism')
    base = (base or '').strip().upper()
    names = ' or '.join(bases)
    if value is None or value == 0:
        if base:
            raise InvalidPrescription(f'{where}: a prism base ({base}) needs a {what} prism amount.')
        return None, ''
    if not 0 < value <= PRISM_MAX or value != value.quantize(Decimal('0.01')):
        raise InvalidPrescription(
            f'{where}: the {what} prism must be more than 0 and at most {PRISM_MAX} prism diopters.'
        )
    if base not in bases:
        raise InvalidPrescription(f'{where}: choose the base of the {what} prism ({names}).')
    return value.quantize(Decimal('0.01')), base


def _millimeters(text: str, where: str, what: str, bounds: tuple[Decimal, Decimal], places: str) -> Decimal | None:
    value = _number(text, where, what)
    if value is None:
        return None
    low, high = bounds
    if not low <= value <= high:
        raise InvalidPrescription(f'{where}: the {what} must be from {low} to {high} mm; {value} is not.')
    if value != value.quantize(Decimal(places)):
        raise InvalidPrescription(f'{where}: the {what} is written to {places.count("0")} decimal place(s).')
    return value.quantize(Decimal(places))


def _text(value: str, where: str, what: str, limit: int = TEXT_MAX) -> str:
    value = one_line(value)
    if len(value) > limit:
        raise InvalidPrescription(f'{where}: please keep the {what} under {limit} characters.')
    if unstorable(value):
        raise InvalidPrescription(f'{where}: ' + UNSTORABLE_SENTENCE.format(label=what))
    return value


def _notes(value: str) -> str:
    """Notes keep their line breaks; only the ends are trimmed."""
    value = (value or '').strip()
    if len(value) > NOTES_MAX:
        raise InvalidPrescription(f'Notes: please keep the notes under {NOTES_MAX} characters.')
    if unstorable(value.replace('\r\n', '\n').replace('\t', ' '), multiline=True):
        raise InvalidPrescription('Notes: ' + UNSTORABLE_SENTENCE.format(label='notes'))
    return value


def _eye(eye_code: str, eye: EyeInput, kind: RxKind) -> EyeValues:
    where = EYE_NAMES[eye_code]
    contact_lens = kind == RxKind.CONTACT_LENS
    sphere = _sphere(eye.sphere, where, 'power' if contact_lens else 'sphere')
    cylinder, axis = _cylinder_and_axis(eye, where)
    add, add_level = _add(eye.add, where, contact_lens)
    if not contact_lens:
        prism, prism_base = _prism(
            eye.prism_horizontal, eye.prism_horizontal_base, HORIZONTAL_BASES, where, 'horizontal'
        )
        vertical, vertical_base = _prism(eye.prism_vertical, eye.prism_vertical_base, VERTICAL_BASES, where, 'vertical')
        return EyeValues(
            eye_code,
            sphere,
            cylinder,
            axis,
            add,
            prism=prism,
            prism_base=prism_base,
            prism_vertical=vertical,
            prism_vertical_base=vertical_base,
        )
    base_curve = _millimeters(eye.base_curve, where, 'base curve', BASE_CURVE, '0.01')
    diameter = _millimeters(eye.diameter, where, 'diameter', DIAMETER, '0.1')
    if base_curve is None:
        raise InvalidPrescription(f'{where}: enter the base curve (6.00 to 10.50 mm).')
    if diameter is None:
        raise InvalidPrescription(f'{where}: enter the diameter (7.0 to 24.0 mm).')
    dominance = (eye.dominance or '').strip().upper()
    if dominance not in ('', *DOMINANCE):
        raise InvalidPrescription(f'{where}: dominance is D (dominant) or N (non-dominant).')
    manufacturer = _text(eye.manufacturer, where, 'manufacturer')
    brand = _text(eye.brand, where, 'brand')
    if not manufacturer and not brand:
        raise InvalidPrescription(f'{where}: enter the lens manufacturer or brand; a contact lens Rx must name it.')
    return EyeValues(
        eye_code,
        sphere,
        cylinder,
        axis,
        add,
        add_level,
        dominance,
        manufacturer=manufacturer,
        brand=brand,
        base_curve=base_curve,
        diameter=diameter,
    )


def _pd(form: RxInput) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    where = 'PD'
    binocular = _millimeters(form.pd_binocular, where, 'binocular PD', PD_BINOCULAR, '0.1')
    right = _millimeters(form.pd_od, where, 'right (OD) PD', PD_MONOCULAR, '0.1')
    left = _millimeters(form.pd_os, where, 'left (OS) PD', PD_MONOCULAR, '0.1')
    if binocular is not None and (right is not None or left is not None):
        raise InvalidPrescription('PD: write either one binocular PD or a PD for each eye, not both.')
    if (right is None) != (left is None):
        raise InvalidPrescription('PD: a monocular PD needs both eyes (OD and OS).')
    return binocular, right, left


def _expiry(form: RxInput, kind: RxKind, issue: date, spectacle_months: int) -> tuple[date, str]:
    reason = _text(form.expiry_reason, 'Expiry', 'reason', REASON_MAX)
    if kind == RxKind.CONTACT_LENS:
        earliest = one_calendar_year_after(issue)
        expiry = form.expiry_date or earliest
        if expiry < earliest and not reason:
            raise InvalidPrescription(
                f'A contact lens Rx expires at least one year after it is issued ({earliest:%B} {earliest.day}, '
                f'{earliest.year}); an earlier expiry needs the medical reason recorded.'
            )
        if expiry >= earliest:
            reason = ''  # the reason explains a shorter expiry only
    else:
        expiry = form.expiry_date or add_months(issue, spectacle_months)
    if expiry <= issue:
        raise InvalidPrescription('The expiry date must be after the issue date.')
    return expiry, reason


def validate(form: RxInput, *, today: date, spectacle_expiry_months: int) -> RxValues:
    """The checked, typed prescription, or InvalidPrescription naming the first problem."""
    try:
        kind = RxKind(form.kind)
    except ValueError:
        raise InvalidPrescription('Choose glasses or contact lenses.') from None
    if form.provider_id is None:
        raise InvalidPrescription('Choose the prescriber.')
    if form.exam_date is None:
        raise InvalidPrescription('Enter the exam date.')
    issue = form.issue_date or today
    if form.exam_date > today:
        raise InvalidPrescription('The exam date cannot be in the future.')
    if issue < form.exam_date:
        raise InvalidPrescription('The issue date cannot be before the exam date.')
    purpose: RxPurpose | None = None
    if kind == RxKind.SPECTACLE:
        try:
            purpose = RxPurpose(form.purpose or '')
        except ValueError:
            raise InvalidPrescription(
                'Choose what the glasses are for: distance, near, computer, progressive or other.'
            ) from None
    expiry, reason = _expiry(form, kind, issue, spectacle_expiry_months)
    missing = [eye for eye in EYES if eye not in form.eyes]
    if missing:
        raise InvalidPrescription(f'{EYE_NAMES[missing[0]]}: enter the values for this eye.')
    eyes = tuple(_eye(eye, form.eyes[eye], kind) for eye in EYES)
    pd = _pd(form) if kind == RxKind.SPECTACLE else (None, None, None)
    schedule = (
        _text(form.replacement_schedule, 'Replacement', 'replacement schedule') if kind == RxKind.CONTACT_LENS else ''
    )
    return RxValues(
        kind=kind,
        provider_id=form.provider_id,
        exam_date=form.exam_date,
        issue_date=issue,
        expiry_date=expiry,
        purpose=purpose,
        expiry_reason=reason,
        notes=_notes(form.notes),
        pd_binocular=pd[0],
        pd_od=pd[1],
        pd_os=pd[2],
        replacement_schedule=schedule,
        eyes=eyes,
    )
