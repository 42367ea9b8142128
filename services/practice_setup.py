"""The practice itself: name, contact details, time zone, and the settings it changes without a developer.

One practice per installation. The first save creates it; later saves update it. Every save writes its
audit row (with the fields that changed) in the same transaction.
"""

import functools
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from models.practice import Practice
from services import audit
from services.errors import DomainError
from services.patients import InvalidPhone, validated_phone
from services.typed_text import UNSTORABLE_SENTENCE, one_line, quoted, unstorable
from services.us_states import state_code

NAME_MAX = 200
TAX_ID = re.compile(r'^\d{2}-?\d{7}$')  # an EIN, as printed on receipts: 12-3456789
SPECTACLE_EXPIRY_MONTHS = (1, 120)
REMINDER_LEAD_HOURS = (1, 336)  # up to two weeks ahead
SALES_TAX_PERCENT = (Decimal('0'), Decimal('25'))


class PracticeInvalid(DomainError):
    """A field of the practice form is wrong; the message names it and says how to fix it."""


@dataclass(frozen=True)
class PracticeDetails:
    """What the setup form collects, before validation."""

    name: str
    phone: str
    time_zone: str
    fax: str = ''
    address_line1: str = ''
    address_line2: str = ''
    city: str = ''
    state: str = ''
    postal_code: str = ''
    tax_id: str = ''


@dataclass(frozen=True)
class PracticeSettings:
    """The settings a practice changes itself (Practice settings), as typed; numbers may arrive as text."""

    spectacle_expiry_months: int | float | str | None
    eyewear_sales_exemption: bool
    reminder_lead_hours: int | float | str | None
    sales_tax_percent: Decimal | int | float | str | None
    payment_url: str = ''


@functools.cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted, for the searchable picker (read from disk once)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def validated_time_zone(name: str | None) -> str:
    name = (name or '').strip()
    if not name:
        raise PracticeInvalid('Please choose the time zone the practice works in, such as America/New_York.')
    if name not in time_zones():
        raise PracticeInvalid(f'{quoted(name)} is not a time zone. Choose one from the list, such as America/Chicago.')
    return name


def _text(value: str | None, label: str, maximum: int = NAME_MAX, *, required: bool = False) -> str:
    value = one_line(value)
    if required and not value:
        raise PracticeInvalid(f'Please enter the {label}.')
    if len(value) > maximum:
        raise PracticeInvalid(f'The {label} can have at most {maximum} characters.')
    if unstorable(value):
        raise PracticeInvalid(UNSTORABLE_SENTENCE.format(label=label))
    return value


def _phone(value: str | None, label: str, *, required: bool) -> str:
    if not (value or '').strip():
        if required:
            raise PracticeInvalid(f'Please enter the {label}: it goes into every message to patients.')
        return ''
    try:
        return validated_phone(value)
    except InvalidPhone as error:
        raise PracticeInvalid(f'{label.capitalize()}: {error}') from None


def _tax_id(value: str | None) -> str:
    value = ''.join((value or '').split())
    if not value:
        return ''
    if not TAX_ID.match(value):
        raise PracticeInvalid("The tax id should be the practice's EIN: nine digits, such as 12-3456789.")
    digits = value.replace('-', '')
    return f'{digits[:2]}-{digits[2:]}'


def validated_details(details: PracticeDetails) -> dict[str, str]:
    """The fields to store, cleaned; PracticeInvalid with the first problem otherwise."""
    state = state_code(details.state)
    if state is None:
        raise PracticeInvalid(f'{quoted(details.state)} is not a US state. Enter its two-letter code, such as VT.')
    postal_code = ' '.join((details.postal_code or '').split())
    if postal_code and not re.fullmatch(r'\d{5}(-\d{4})?', postal_code):
        raise PracticeInvalid('The ZIP code should have five digits (or ZIP+4, such as 05401-1234).')
    return {
        'name': _text(details.name, 'practice name', required=True),
        'phone': _phone(details.phone, 'practice phone number', required=True),
        'fax': _phone(details.fax, 'fax number', required=False),
        'time_zone': validated_time_zone(details.time_zone),
        'address_line1': _text(details.address_line1, 'street address'),
        'address_line2': _text(details.address_line2, 'second address line'),
        'city': _text(details.city, 'city', 100),
        'state': state,
        'postal_code': postal_code,
        'tax_id': _tax_id(details.tax_id),
    }


def _whole_number(value: int | float | str | None, label: str, bounds: tuple[int, int], unit: str) -> int:
    low, high = bounds
    text = str(value if value is not None else '').strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or number != number.to_integral_value():
        raise PracticeInvalid(f'The {label} should be a whole number of {unit}, between {low} and {high}.')
    if not low <= number <= high:
        raise PracticeInvalid(f'The {label} should be between {low} and {high} {unit}.')
    return int(number)


def _percent(value: Decimal | int | float | str | None) -> Decimal:
    low, high = SALES_TAX_PERCENT
    text = str(value if value is not None else '').strip().removesuffix('%').strip() or '0'
    try:
        percent = Decimal(text)
    except InvalidOperation:
        raise PracticeInvalid('The sales tax should be a percentage, such as 6 or 6.25.') from None
    if not percent.is_finite() or not low <= percent <= high:
        raise PracticeInvalid(f'The sales tax should be between {low}% and {high}%.')
    if percent != percent.quantize(Decimal('0.001')):
        raise PracticeInvalid('The sales tax can have at most three decimals, such as 6.875.')
    return percent.quantize(Decimal('0.001'))


def _payment_url(value: str | None) -> str:
    value = (value or '').strip()
    if not value:
        return ''
    parts = urlsplit(value)
    if parts.scheme != 'https' or not parts.netloc or ' ' in value:
        raise PracticeInvalid(
            'The payment link should be a full web address starting with https://, such as https://pay.example.com.'
        )
    if len(value) > 500:
        raise PracticeInvalid('The payment link can have at most 500 characters.')
    if unstorable(value):
        raise PracticeInvalid(UNSTORABLE_SENTENCE.format(label='payment link'))
    return value


def validated_settings(settings: PracticeSettings) -> dict[str, object]:
    return {
        'spectacle_expiry_months': _whole_number(
            settings.spectacle_expiry_months, 'spectacle prescription expiry', SPECTACLE_EXPIRY_MONTHS, 'months'
        ),
        'eyewear_sales_exemption': bool(settings.eyewear_sales_exemption),
        'reminder_lead_hours': _whole_number(
            settings.reminder_lead_hours, 'appointment reminder lead time', REMINDER_LEAD_HOURS, 'hours'
        ),
        'sales_tax_percent': _percent(settings.sales_tax_percent),
        'payment_url': _payment_url(settings.payment_url),
    }


def settings_of(practice: Practice) -> PracticeSettings:
    return PracticeSettings(
        spectacle_expiry_months=practice.spectacle_expiry_months,
        eyewear_sales_exemption=practice.eyewear_sales_exemption,
        reminder_lead_hours=practice.reminder_lead_hours,
        sales_tax_percent=practice.sales_tax_percent,
        payment_url=practice.payment_url,
    )


async def current_practice() -> Practice | None:
    """The installation's practice (the first one), or None on an empty installation."""
    return await Practice.all().order_by('id').first()


async def _write(values: dict[str, object], action: str, actor: audit.Actor) -> Practice:
    async with in_transaction():
        practice = await Practice.all().order_by('id').select_for_update().first()
        if practice is None:
            practice = await Practice.create(**values)
            changed = sorted(values)
            action = 'practice.created'
        else:
            changed = sorted(field for field, value in values.items() if getattr(practice, field) != value)
            if not changed:
                return practice
            practice.update_from_dict(values)
            await practice.save(update_fields=changed)
        await audit.record(action, actor, object_type='practice', object_id=practice.id, detail={'changed': changed})
    return practice


async def save_practice(details: PracticeDetails, actor: audit.Actor) -> Practice:
    """Create the practice on an empty installation, or update its details."""
    return await _write(validated_details(details), 'practice.updated', actor)


async def save_settings(settings: PracticeSettings, actor: audit.Actor) -> Practice:
    """The Practice settings section. Before the practice exists there is nothing to configure."""
    values = validated_settings(settings)
    if await current_practice() is None:
        raise PracticeInvalid("Enter the practice's name, phone number and time zone first.")
    return await _write(values, 'practice.settings_changed', actor)
