"""Staff accounts: argon2id passwords, roles, and lock-out after repeated failures."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from models.staff import ROLES, StaffUser
from services import audit
from services.email_addresses import normalize_email, validated_email
from services.errors import DomainError
from services.password_policy import check_new_password
from services.typed_text import checked_line, findable

MAX_FAILURES = 5
NAME_MAX = 200  # StaffUser.name
EMAIL_MAX = 320  # StaffUser.email
LOCK_FOR = timedelta(minutes=15)

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash('timing-equaliser')


class SignInFailed(DomainError):
    def __init__(self) -> None:
        super().__init__('The email address or password is not correct.')


class AccountLocked(SignInFailed):
    """Answers in the same words as a wrong password: otherwise the lock-out would tell real staff addresses
    from unknown ones. The lock is kept all the same, and an administrator sees it on the Team page."""

    def __init__(self, minutes: int) -> None:
        super().__init__()
        self.minutes = minutes


class StaffInputError(DomainError):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


async def create_staff(email: str, name: str, password: str, role: str = 'staff') -> StaffUser:
    email = normalize_email(validated_email(email))
    name = checked_line(name, 'name', NAME_MAX, required='Please enter a name.', refuse=StaffInputError)
    check_new_password(password, email=email, name=name)
    if role not in ROLES:
        raise StaffInputError(f'The role must be one of: {", ".join(ROLES)}.')
    try:
        return await StaffUser.create(
            email=email, name=name, role=role, password_hash=await asyncio.to_thread(_hasher.hash, password)
        )
    except IntegrityError:
        raise StaffInputError(f'A staff account for {email} already exists.') from None


async def hash_password(password: str) -> str:
    """argon2id in a worker thread (it takes a noticeable moment), for every place that stores a password."""
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _refuse_if_locked(staff: StaffUser, now: datetime) -> None:
    if staff.locked_until and staff.locked_until > now:
        raise AccountLocked(max(1, int((staff.locked_until - now).total_seconds() // 60) + 1))


async def authenticate(email: str, password: str, client_address: str = '') -> StaffUser:
    """Check a staff member's password; five failures in a row lock the account for a while.

    argon2 runs in a worker thread so a sign-in does not stall every other page for its duration.
    Failures are counted with atomic updates and the lock is checked again after the password, so
    parallel guesses cannot read the same count and get more than five tries.
    """
    email = normalize_email(email)
    staff = await StaffUser.get_or_none(email=email, is_active=True) if findable(email, EMAIL_MAX) else None
    if staff is None or not staff.password_hash:  # unknown, or invited and no password chosen yet
        # spend the same time as a real check, so timing does not reveal which emails exist
        await asyncio.to_thread(_verify, _DUMMY_HASH, password + 'x')
        raise SignInFailed()
    if staff.locked_until and staff.locked_until > _now():
        await asyncio.to_thread(_verify, _DUMMY_HASH, password + 'x')  # as long as a real check: no timing tell
        _refuse_if_locked(staff, _now())
    actor = audit.Actor.staff(staff, client_address)
    if not await asyncio.to_thread(_verify, staff.password_hash, password):
        await _count_failure(staff, actor)
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = await asyncio.to_thread(_hasher.hash, password)
        await StaffUser.filter(id=staff.id).update(password_hash=staff.password_hash)
    if staff.totp_secret:
        # Half-way: the failure count stays until the code is right too, or a correct password would
        # reset it and give unlimited guesses at the code.
        if await StaffUser.filter(Q(locked_until=None) | Q(locked_until__lte=_now()), id=staff.id).exists():
            return staff  # the caller asks for the code (`second_factor`)
        _refuse_if_locked(await StaffUser.get(id=staff.id), _now())
        raise SignInFailed()
    return await _signed_in(staff, actor)


def needs_second_factor(staff: StaffUser) -> bool:
    """After a correct password: whether a code from the member's app must follow."""
    return bool(staff.totp_secret)


async def second_factor(staff: StaffUser, code: str, client_address: str = '') -> StaffUser:
    """The code step after a correct password. A wrong code counts toward the lock-out like a wrong password."""
    from services import staff_totp

    current = await StaffUser.get_or_none(id=staff.id, is_active=True)
    if current is None:
        raise SignInFailed()
    _refuse_if_locked(current, _now())
    actor = audit.Actor.staff(current, client_address)
    try:
        kind = await staff_totp.check_code(current, code)
    except staff_totp.CodeRefused:
        try:
            await _count_failure(current, actor)
        except AccountLocked:
            raise
        except SignInFailed:
            raise staff_totp.CodeRefused() from None
    return await _signed_in(current, actor, {'second_factor': kind})


async def _signed_in(staff: StaffUser, actor: audit.Actor, detail: dict | None = None) -> StaffUser:
    now = _now()
    signed_in = await StaffUser.filter(Q(locked_until=None) | Q(locked_until__lte=now), id=staff.id).update(
        failed_attempts=0, locked_until=None, last_login_at=now
    )
    if not signed_in:  # parallel wrong guesses locked the account while this password was checked
        _refuse_if_locked(await StaffUser.get(id=staff.id), now)
        raise SignInFailed()
    staff.failed_attempts, staff.locked_until, staff.last_login_at = 0, None, now
    await audit.record('staff.signed_in', actor, detail=detail)
    return staff


async def _count_failure(staff: StaffUser, actor: audit.Actor) -> NoReturn:
    now = _now()
    await StaffUser.filter(id=staff.id).update(failed_attempts=F('failed_attempts') + 1)
    locked = bool(
        await StaffUser.filter(id=staff.id, failed_attempts__gte=MAX_FAILURES).update(
            failed_attempts=0, locked_until=now + LOCK_FOR
        )
    )
    await audit.record('staff.sign_in_failed', actor, detail={'locked': locked})
    if locked:
        raise AccountLocked(int(LOCK_FOR.total_seconds() // 60))
    raise SignInFailed()
