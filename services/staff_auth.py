"""Staff accounts: argon2id passwords, roles, and lock-out after repeated failures."""

import contextlib
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError

from models.staff import ROLES, StaffUser
from services import audit
from services.email_addresses import normalize_email, validated_email
from services.errors import DomainError

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash('timing-equaliser')


class SignInFailed(DomainError):
    def __init__(self) -> None:
        super().__init__('The email address or password is not correct.')


class AccountLocked(DomainError):
    def __init__(self, minutes: int) -> None:
        super().__init__(
            f'Too many failed sign-in attempts. This account is locked; try again in {minutes} minutes '
            'or ask an administrator.'
        )


class StaffInputError(DomainError):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


async def create_staff(email: str, name: str, password: str, role: str = 'staff') -> StaffUser:
    email = normalize_email(validated_email(email))
    if not name.strip():
        raise StaffInputError('Please enter a name.')
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffInputError(f'The password must have at least {MIN_PASSWORD_LENGTH} characters.')
    if role not in ROLES:
        raise StaffInputError(f'The role must be one of: {", ".join(ROLES)}.')
    try:
        return await StaffUser.create(email=email, name=name.strip(), role=role, password_hash=_hasher.hash(password))
    except IntegrityError:
        raise StaffInputError(f'A staff account for {email} already exists.') from None


async def authenticate(email: str, password: str, client_address: str = '') -> StaffUser:
    staff = await StaffUser.get_or_none(email=normalize_email(email), is_active=True)
    if staff is None:
        # spend the same time as a real check, so timing does not reveal which emails exist
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password + 'x')
        raise SignInFailed()
    now = _now()
    if staff.locked_until and staff.locked_until > now:
        raise AccountLocked(max(1, int((staff.locked_until - now).total_seconds() // 60) + 1))
    actor = audit.Actor('staff', staff.id, staff.name, client_address)
    try:
        _hasher.verify(staff.password_hash, password)
    except (VerificationError, InvalidHashError):
        staff.failed_attempts += 1
        locked = staff.failed_attempts >= MAX_FAILURES
        if locked:
            staff.locked_until, staff.failed_attempts = now + LOCK_FOR, 0
        await staff.save(update_fields=['failed_attempts', 'locked_until'])
        await audit.record('staff.sign_in_failed', actor, detail={'locked': locked})
        if locked:
            raise AccountLocked(int(LOCK_FOR.total_seconds() // 60)) from None
        raise SignInFailed() from None
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = _hasher.hash(password)
    staff.failed_attempts, staff.locked_until, staff.last_login_at = 0, None, now
    await staff.save(update_fields=['failed_attempts', 'locked_until', 'last_login_at', 'password_hash'])
    await audit.record('staff.signed_in', actor)
    return staff


def staff_actor(staff: StaffUser, client_address: str = '') -> audit.Actor:
    return audit.Actor('staff', staff.id, staff.name, client_address)
