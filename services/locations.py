"""The practice's offices. A location is deactivated, never deleted: appointments keep pointing at it."""

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models.practice import Location
from services import audit
from services.errors import DomainError, NotFound
from services.patients import InvalidPhone, validated_phone
from services.practice_setup import current_practice
from services.typed_text import UNSTORABLE_SENTENCE, unstorable

NAME_MAX = 200
ADDRESS_MAX = 300


class LocationInvalid(DomainError):
    pass


@dataclass(frozen=True)
class LocationInput:
    name: str
    address: str = ''
    phone: str = ''


def _validated(data: LocationInput) -> dict[str, str]:
    name = ' '.join((data.name or '').split())
    if not name:
        raise LocationInvalid('Please enter a name for the location, such as "Main Street office".')
    if len(name) > NAME_MAX:
        raise LocationInvalid(f'The location name can have at most {NAME_MAX} characters.')
    address = ' '.join((data.address or '').split())
    if len(address) > ADDRESS_MAX:
        raise LocationInvalid(f'The location address can have at most {ADDRESS_MAX} characters.')
    try:
        phone = validated_phone(data.phone)
    except InvalidPhone as error:
        raise LocationInvalid(f'Location phone: {error}') from None
    if unstorable(name + address):
        raise LocationInvalid(UNSTORABLE_SENTENCE.format(label='location name or address'))
    return {'name': name, 'address': address, 'phone': phone}


async def list_locations(*, active_only: bool = False) -> list[Location]:
    """Active ones first, then by name."""
    query = Location.all() if not active_only else Location.filter(is_active=True)
    return await query.order_by('-is_active', 'name', 'id')


async def _get(location_id: int) -> Location:
    location = await Location.get_or_none(id=location_id)
    if location is None:
        raise NotFound('location')
    return location


async def _refuse_duplicate(practice_id: int, name: str, location_id: int | None = None) -> None:
    query = Location.filter(practice_id=practice_id, name=name, is_active=True)
    if location_id is not None:
        query = query.exclude(id=location_id)
    if await query.exists():
        raise LocationInvalid(f'There is already an active location named "{name}". Give this one another name.')


async def add_location(data: LocationInput, actor: audit.Actor) -> Location:
    values = _validated(data)
    practice = await current_practice()
    if practice is None:
        raise LocationInvalid("Enter the practice's name, phone number and time zone before adding locations.")
    async with in_transaction():
        await _refuse_duplicate(practice.id, values['name'])
        location = await Location.create(practice=practice, **values)
        await audit.record('location.added', actor, object_type='location', object_id=location.id)
    return location


async def update_location(location_id: int, data: LocationInput, actor: audit.Actor) -> Location:
    values = _validated(data)
    async with in_transaction():
        location = await _get(location_id)
        await _refuse_duplicate(location.practice_id, values['name'], location.id)
        changed = sorted(field for field, value in values.items() if getattr(location, field) != value)
        if changed:
            location.update_from_dict(values)
            await location.save(update_fields=changed)
            await audit.record(
                'location.updated', actor, object_type='location', object_id=location.id, detail={'changed': changed}
            )
    return location


async def set_location_active(location_id: int, active: bool, actor: audit.Actor) -> Location:
    """Deactivating hides a location from new appointments; the last active one stays, or setup breaks."""
    async with in_transaction():
        location = await Location.filter(id=location_id).select_for_update().first()
        if location is None:
            raise NotFound('location')
        if location.is_active == active:
            return location
        if not active:
            others = await Location.filter(practice_id=location.practice_id, is_active=True).exclude(id=location.id)
            if not others:
                raise LocationInvalid(
                    f'"{location.name}" is the only active location. Add another location before deactivating it.'
                )
        else:
            await _refuse_duplicate(location.practice_id, location.name, location.id)
        location.is_active = active
        await location.save(update_fields=['is_active'])
        action = 'location.reactivated' if active else 'location.deactivated'
        await audit.record(action, actor, object_type='location', object_id=location.id)
    return location
