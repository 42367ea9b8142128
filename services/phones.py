"""Phone numbers: one parse, one way of showing them, E.164 for the SMS provider, digits for search."""

import re
from functools import lru_cache

import phonenumbers

from services.errors import DomainError
from services.typed_text import quoted

DEFAULT_REGION = 'US'


class InvalidPhone(DomainError):
    pass


def _digits(value: str) -> str:
    return re.sub(r'\D', '', value or '')


# How `validated_phone` writes a North American number: its 10 digits are the national number, no parse needed.
_NATIONAL_FORM = re.compile(r'\([2-9]\d{2}\) \d{3}-\d{4}')


@lru_cache(maxsize=4096)  # pure: an import compares the same number several times per row
def phone_digits(phone: str | None) -> str:
    """The digits search matches on: the 10-digit national number for US numbers, else country code + number."""
    digits = _digits(phone or '')
    if not digits:
        return ''
    if _NATIONAL_FORM.fullmatch(phone or ''):  # a stored number: parsing it again was a tenth of an import's checks
        return digits
    try:
        parsed = phonenumbers.parse(phone or '', DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return digits[-15:]
    national = str(parsed.national_number)
    return national if parsed.country_code == 1 else f'{parsed.country_code}{national}'


def validated_phone(phone: str | None, *, required: bool = False) -> str:
    """The number formatted for display ('(207) 555-0134'); '' when blank and optional."""
    phone = (phone or '').strip()
    if not phone:
        if required:
            raise InvalidPhone('This patient has no phone number on file. Ask the patient for a mobile number.')
        return ''
    display = _display_form(phone)
    if display is None:
        raise InvalidPhone(
            f'{quoted(phone)} is not a valid phone number. Enter a US number with its area code, '
            'such as (207) 555-0134, or an international number starting with +.'
        )
    return display


@lru_cache(maxsize=4096)  # pure, and the costliest step of checking a row of a 100,000-row import
def _display_form(phone: str) -> str | None:
    try:
        parsed = phonenumbers.parse(phone, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


def display_phone(phone: str | None) -> str:
    """A phone number written one way everywhere ('(207) 555-0134', '+44 20 7946 0958'); as typed if unparsable."""
    try:
        return validated_phone(phone)
    except InvalidPhone:
        return (phone or '').strip()


def phone_e164(phone: str | None) -> str:
    """E.164 form ('+12075550134'), or '' for a number that is missing or not valid."""
    try:
        return textable_phone(phone)
    except InvalidPhone:
        return ''


def dial_string(phone: str | None) -> str:
    """What a `tel:` link dials: the E.164 form, or the digits as typed for a number phonenumbers doesn't know
    (the demo's 555-01xx numbers), so a Call link is never empty."""
    return phone_e164(phone) or ''.join(ch for ch in phone or '' if ch.isdigit() or ch == '+')


def textable_phone(phone: str | None) -> str:
    """E.164 form for an SMS gateway; raises InvalidPhone with the sentence for staff."""
    display = validated_phone(phone, required=True)
    return phonenumbers.format_number(phonenumbers.parse(display, DEFAULT_REGION), phonenumbers.PhoneNumberFormat.E164)
