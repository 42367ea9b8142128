"""Whether the practice is set up: derived from the records themselves, never stored as a flag.

A practice is ready when it has a name, a phone number and a time zone, and at least one active location
and one active provider. Until then, staff pages say what is missing, and nothing that needs those records
(a new patient, a prescription) is started only to fail at the end.
"""

from dataclasses import dataclass

from models.practice import Location, Practice, Provider
from services.errors import DomainError


@dataclass(frozen=True)
class SetupStatus:
    practice: Practice | None
    missing: tuple[str, ...]  # in words: ('a phone number', 'an active provider')

    @property
    def complete(self) -> bool:
        return not self.missing

    def sentence(self) -> str:
        """'Setup is not finished: the practice still needs a phone number and an active provider.'"""
        return f'Setup is not finished: the practice still needs {join_words(self.missing)}.'


class SetupIncomplete(DomainError):
    def __init__(self, status: SetupStatus) -> None:
        self.status = status
        super().__init__(f'{status.sentence()} An administrator completes it under Practice settings.')


def join_words(items: tuple[str, ...] | list[str]) -> str:
    if len(items) <= 1:
        return ''.join(items)
    return ', '.join(items[:-1]) + ' and ' + items[-1]


async def setup_status() -> SetupStatus:
    """What the practice still needs before the console is usable (three small queries)."""
    practice = await Practice.all().order_by('id').first()
    missing: list[str] = []
    if practice is None or not practice.name.strip():
        missing.append('a name')
    if practice is None or not practice.phone.strip():
        missing.append('a phone number')
    if practice is None or not practice.time_zone.strip():
        missing.append('a time zone')
    if practice is None or not await Location.exists(practice_id=practice.id, is_active=True):
        missing.append('an active location')
    if practice is None or not await Provider.exists(practice_id=practice.id, is_active=True):
        missing.append('an active provider')
    return SetupStatus(practice, tuple(missing))


async def require_setup() -> Practice:
    """The practice, once set up; otherwise SetupIncomplete, saying what is missing."""
    status = await setup_status()
    if not status.complete or status.practice is None:
        raise SetupIncomplete(status)
    return status.practice
