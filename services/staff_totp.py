"""A second factor for staff sign-in: time-based one-time codes (TOTP, RFC 6238) from an authenticator app,
with ten one-time recovery codes. Offered to every team member (Two-step sign-in, `/staff/two-factor`), and
required of administrators: an administrator without it reaches only that page until it is set up
(`must_enrol`, enforced where the console resolves its viewer, `pages.staff.page`).

The shared secret is stored encrypted (Fernet, under a key derived from the app secret); a code is accepted
once (the last accepted time step is kept, and moved forward by an atomic update, so a code seen over a
shoulder or replayed in parallel does not sign in twice); recovery codes are stored hashed and used once.
Wrong codes count toward the same lock-out as wrong passwords.
"""

import hashlib
import secrets
import time
from datetime import UTC, datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.staff import StaffRecoveryCode, StaffUser
from services import audit
from services.errors import DomainError

ISSUER = 'Eye-care patient portal'
RECOVERY_CODES = 10
STEP_SECONDS = 30

_fernet: Fernet | None = None


class CodeRefused(DomainError):
    def __init__(self) -> None:
        super().__init__('That code is not correct. Enter the 6-digit code your app shows now, or a recovery code.')


class MustKeep(DomainError):
    def __init__(self) -> None:
        super().__init__(
            'Administrators must keep two-step sign-in on. To move it to a new phone, set it up again instead.'
        )


ENROL_FIRST = 'Administrators must turn on two-step sign-in before using the console.'


def configure(key: bytes) -> None:
    global _fernet
    _fernet = Fernet(key)


def _cipher() -> Fernet:
    if _fernet is None:
        raise RuntimeError('staff_totp.configure() was not called')
    return _fernet


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normal(code: str) -> str:
    return ''.join(ch for ch in code.lower() if ch.isalnum())


def is_enabled(staff: StaffUser) -> bool:
    return bool(staff.totp_secret)


def must_enrol(staff: StaffUser) -> bool:
    """An administrator without a second factor may only set one up. Demo accounts are exempt: they exist only
    on a portal started with `--demo` (a real install refuses to start with one), their password is printed
    for anyone to use, and the demo must work in one command without an authenticator app."""
    return staff.role == 'admin' and not staff.is_demo and not is_enabled(staff)


def must_keep(staff: StaffUser) -> bool:
    """Administrators cannot turn the second factor off (they can set it up again on a new phone)."""
    return staff.role == 'admin' and not staff.is_demo


def seal(secret: str) -> str:
    """The secret as stored: encrypted under the TOTP key."""
    return _cipher().encrypt(secret.encode()).decode()


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits


def provisioning_uri(secret: str, staff: StaffUser, practice_name: str = '') -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name=practice_name or ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR as inline SVG (no image request, nothing leaves the page)."""
    return segno.make(uri, error='m').svg_inline(scale=5, dark='#000', light='#fff')


def _step(at: float) -> int:
    return int(at // STEP_SECONDS)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step (now, or one either side for clock drift) whose code is `code`."""
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        step = _step(now) + offset
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


async def enable(staff_id: int, secret: str, code: str, actor: audit.Actor, now: float | None = None) -> list[str]:
    """Turn the second factor on once the member has typed a code from the app; returns the recovery codes,
    shown once."""
    step = _matching_step(secret, _normal(code), time.time() if now is None else now)
    if step is None:
        raise CodeRefused()
    codes = [f'{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}' for _ in range(RECOVERY_CODES)]
    async with in_transaction():
        await StaffUser.filter(id=staff_id).update(totp_secret=seal(secret), totp_last_step=step)
        await StaffRecoveryCode.filter(staff_id=staff_id).delete()
        await StaffRecoveryCode.bulk_create(
            [StaffRecoveryCode(staff_id=staff_id, code_hash=_hash(_normal(c))) for c in codes]
        )
        await audit.record('staff.totp_enabled', actor, object_type='staff', object_id=staff_id)
    return codes


async def disable(staff_id: int, actor: audit.Actor) -> None:
    async with in_transaction():
        await StaffUser.filter(id=staff_id).update(totp_secret='', totp_last_step=None)
        await StaffRecoveryCode.filter(staff_id=staff_id).delete()
        await audit.record('staff.totp_disabled', actor, object_type='staff', object_id=staff_id)


async def turn_off(staff_id: int, code: str, actor: audit.Actor) -> None:
    """The member turns their own second factor off, proving it with a current code; never an administrator."""
    staff = await StaffUser.get(id=staff_id)
    if must_keep(staff):
        raise MustKeep()
    await check_code(staff, code)
    await disable(staff_id, actor)


async def check_code(staff: StaffUser, code: str, now: float | None = None) -> str:
    """'totp' or 'recovery' when `code` is good now (and burns it); CodeRefused otherwise."""
    typed = _normal(code)
    if not typed or not staff.totp_secret:
        raise CodeRefused()
    try:
        secret = _cipher().decrypt(staff.totp_secret.encode()).decode()
    except InvalidToken:  # the app secret changed since enrolment: only a recovery code still works
        secret = ''
    at = time.time() if now is None else now
    step = _matching_step(secret, typed, at) if secret and len(typed) == 6 and typed.isdigit() else None
    if step is not None:
        moved = await StaffUser.filter(Q(totp_last_step=None) | Q(totp_last_step__lt=step), id=staff.id).update(
            totp_last_step=step
        )
        if moved:
            return 'totp'
        raise CodeRefused()  # already used (replayed, or a second tab in the same 30 seconds)
    used = await StaffRecoveryCode.filter(staff_id=staff.id, code_hash=_hash(typed), used_at=None).update(
        used_at=datetime.now(UTC)
    )
    if used:
        return 'recovery'
    raise CodeRefused()


async def recovery_codes_left(staff_id: int) -> int:
    return await StaffRecoveryCode.filter(staff_id=staff_id, used_at=None).count()
