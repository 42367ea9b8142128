"""Prescribers: what every prescription prints about them (name, credentials, license) and their NPI.

A provider is deactivated, never deleted: their prescriptions and appointments keep pointing at them.
"""

import re
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models.practice import Provider
from services import audit
from services.errors import DomainError, NotFound
from services.practice_setup import current_practice
from services.typed_text import UNSTORABLE_SENTENCE, unstorable
from services.us_states import state_code

NAME_MAX = 200
CREDENTIALS_MAX = 50
LICENSE_MAX = 50
NPI_PREFIX = '80840'  # the health-industry prefix the NPI check digit is computed with


class ProviderInvalid(DomainError):
    pass


@dataclass(frozen=True)
class ProviderInput:
    name: str
    credentials: str
    license_number: str
    license_state: str
    npi: str = ''


def npi_check_digit_ok(npi: str) -> bool:
    """Luhn over '80840' + the first nine digits must give the tenth (CMS's NPI standard): 1234567893 passes."""
    if not re.fullmatch(r'\d{10}', npi):
        return False
    total = 0
    for position, char in enumerate(reversed(NPI_PREFIX + npi[:9])):
        digit = int(char)
        if position % 2 == 0:  # from the right, every other digit starting with the rightmost is doubled
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def validated_npi(npi: str | None) -> str:
    value = ''.join((npi or '').split()).replace('-', '')
    if not value:
        return ''
    if not value.isdigit() or len(value) != 10:
        raise ProviderInvalid('An NPI has exactly ten digits, such as 1234567893.')
    if not npi_check_digit_ok(value):
        raise ProviderInvalid(f'{value} is not a valid NPI: its last digit does not match. Check it for a typo.')
    return value


def _validated(data: ProviderInput) -> dict[str, str]:
    name = ' '.join((data.name or '').split())
    if not name:
        raise ProviderInvalid("Please enter the provider's name as it should appear on prescriptions.")
    if len(name) > NAME_MAX:
        raise ProviderInvalid(f'The name can have at most {NAME_MAX} characters.')
    credentials = ' '.join((data.credentials or '').split())
    if not credentials:
        raise ProviderInvalid("Please enter the provider's credentials, such as OD or MD.")
    if len(credentials) > CREDENTIALS_MAX:
        raise ProviderInvalid(f'The credentials can have at most {CREDENTIALS_MAX} characters.')
    license_number = ' '.join((data.license_number or '').split())
    if not license_number:
        raise ProviderInvalid('Please enter the license number: it is printed on every prescription.')
    if len(license_number) > LICENSE_MAX:
        raise ProviderInvalid(f'The license number can have at most {LICENSE_MAX} characters.')
    if unstorable(name + credentials + license_number):
        raise ProviderInvalid(UNSTORABLE_SENTENCE.format(label='name, credentials or license number'))
    state = state_code(data.license_state)
    if not state:
        raise ProviderInvalid('Please enter the state that issued the license, as its two-letter code, such as VT.')
    return {
        'name': name,
        'credentials': credentials,
        'licence_number': license_number,
        'licence_state': state,
        'npi': validated_npi(data.npi),
    }


async def list_providers(*, active_only: bool = False) -> list[Provider]:
    """Active ones first, then by name; each with its linked staff account (one query more)."""
    query = Provider.all() if not active_only else Provider.filter(is_active=True)
    return await query.order_by('-is_active', 'name', 'id').prefetch_related('staff_account')


async def _refuse_duplicate_npi(npi: str, provider_id: int | None = None) -> None:
    if not npi:
        return
    query = Provider.filter(npi=npi)
    if provider_id is not None:
        query = query.exclude(id=provider_id)
    other = await query.first()
    if other is not None:
        raise ProviderInvalid(f'NPI {npi} already belongs to {other.name}. Each provider has their own NPI.')


async def add_provider(data: ProviderInput, actor: audit.Actor) -> Provider:
    values = _validated(data)
    practice = await current_practice()
    if practice is None:
        raise ProviderInvalid("Enter the practice's name, phone number and time zone before adding providers.")
    async with in_transaction():
        await _refuse_duplicate_npi(values['npi'])
        provider = await Provider.create(practice=practice, **values)
        await audit.record('provider.added', actor, object_type='provider', object_id=provider.id)
    return provider


async def update_provider(provider_id: int, data: ProviderInput, actor: audit.Actor) -> Provider:
    values = _validated(data)
    async with in_transaction():
        provider = await Provider.get_or_none(id=provider_id)
        if provider is None:
            raise NotFound('provider')
        await _refuse_duplicate_npi(values['npi'], provider.id)
        changed = sorted(field for field, value in values.items() if getattr(provider, field) != value)
        if changed:
            provider.update_from_dict(values)
            await provider.save(update_fields=changed)
            await audit.record(
                'provider.updated', actor, object_type='provider', object_id=provider.id, detail={'changed': changed}
            )
    return provider


async def set_provider_active(provider_id: int, active: bool, actor: audit.Actor) -> Provider:
    """A departed provider is deactivated; the last active one stays, or nobody could prescribe."""
    async with in_transaction():
        provider = await Provider.filter(id=provider_id).select_for_update().first()
        if provider is None:
            raise NotFound('provider')
        if provider.is_active == active:
            return provider
        if not active:
            others = await Provider.filter(practice_id=provider.practice_id, is_active=True).exclude(id=provider.id)
            if not others:
                raise ProviderInvalid(
                    f'{provider.name} is the only active provider. Add another provider before deactivating them.'
                )
        provider.is_active = active
        await provider.save(update_fields=['is_active'])
        action = 'provider.reactivated' if active else 'provider.deactivated'
        await audit.record(action, actor, object_type='provider', object_id=provider.id)
    return provider
