"""Emailed one-time links with which a staff member sets their own password.

A new member is invited with one, and an administrator's "reset password" sends another: nobody types a
password for someone else. The token rules are the patient login link's (`services/magic_link.py`): a
signed JWT (HS256 only) whose random `jti` is stored hashed; looking at the link (GET, a mail scanner)
changes nothing; choosing the password consumes it in one atomic update; a newer link replaces older ones.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models.sessions import StaffSession
from models.staff import StaffPasswordToken, StaffUser
from services import audit, events, magic_link, outbox
from services.email_addresses import mask_email
from services.errors import DomainError
from services.password_policy import MIN_LENGTH as MIN_PASSWORD_LENGTH
from services.password_policy import PasswordRejected, check_new_password  # noqa: F401  (callers catch it here)
from services.staff_auth import hash_password

AUDIENCE = 'eyecare-portal:staff-password'
LINK_PATH = '/staff/set-password/'
VALID_FOR = {'invite': timedelta(hours=72), 'reset': timedelta(hours=1)}

REASONS = {
    'expired': 'This link has expired. Ask an administrator to send you a new one.',
    'used': 'This link has already been used to set a password. Sign in with that password.',
    'replaced': 'A newer link was sent after this one. Use the link in the most recent email.',
    'deactivated': 'This staff account is deactivated. Ask an administrator of your practice.',
    'invalid': 'This is not a valid link. It may be incomplete: copy the whole link from the email.',
}


class PasswordLinkUnusable(DomainError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(REASONS[reason])


@dataclass(frozen=True)
class IssuedPasswordLink:
    url: str
    message_id: int
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def validated_new_password(password: str, repeated: str | None = None, staff: StaffUser | None = None) -> str:
    """The team's password policy (`services.password_policy`), with the member's own email and name."""
    return check_new_password(password, repeated, email=staff.email if staff else '', name=staff.name if staff else '')


async def issue_link(staff: StaffUser, purpose: str, actor: audit.Actor, practice_name: str = '') -> IssuedPasswordLink:
    """Token, email and audit row, in the caller's transaction (or one of its own). Older links stop working.

    The caller sends the message once its transaction commits (`outbox.deliver_soon`).
    """
    settings, now = magic_link.link_settings(), _now()
    expires_at = now + VALID_FOR[purpose]
    jti = secrets.token_urlsafe(24)
    claims = {
        'iss': settings.base_url,
        'aud': AUDIENCE,
        'sub': str(staff.id),
        'jti': jti,
        'iat': int(now.timestamp()),
        'exp': int(expires_at.timestamp()),
    }
    url = magic_link.signed_url(LINK_PATH, claims)
    async with in_transaction():
        await StaffPasswordToken.filter(staff_id=staff.id, used_at=None, invalidated_at=None).update(invalidated_at=now)
        token = await StaffPasswordToken.create(
            staff=staff, jti_hash=_hash(jti), purpose=purpose, expires_at=expires_at
        )
        message = await outbox.enqueue_email(
            to=staff.email,
            subject=_subject(purpose, practice_name),
            body=_body(staff.name, purpose, practice_name, url, expires_at - now),
            purpose='staff_password',
            expires_at=expires_at,
        )
        await audit.record(
            'staff.password_link_sent',
            actor,
            object_type='staff',
            object_id=staff.id,
            detail={'purpose': purpose, 'message_id': message.id, 'to': mask_email(staff.email), 'token': token.id},
        )
    return IssuedPasswordLink(url=url, message_id=message.id, expires_at=expires_at)


def _subject(purpose: str, practice_name: str) -> str:
    console = f'the {practice_name} staff console' if practice_name else 'the staff console'
    return f'Set your password for {console}' if purpose == 'invite' else f'Reset your password for {console}'


def _body(name: str, purpose: str, practice_name: str, url: str, valid: timedelta) -> str:
    hours = int(valid.total_seconds() // 3600)
    lasts = f'{hours} hours' if hours > 1 else 'one hour'
    where = f' of {practice_name}' if practice_name else ''
    opening = (
        f'An administrator{where} has created a staff account for you.'
        if purpose == 'invite'
        else f'An administrator{where} has sent you a link to choose a new password.'
    )
    return (
        f'Hello {name},\n\n{opening}\n\n'
        f'Open this link and choose your password:\n\n{url}\n\n'
        f'The link works once, for {lasts}. Your password needs at least {MIN_PASSWORD_LENGTH} characters.\n\n'
        'If you did not expect this email, tell your practice: nobody can use the account without this link.\n'
    )


async def _usable(token: str) -> StaffPasswordToken:
    claims = magic_link.decode_link(token, AUDIENCE, PasswordLinkUnusable)
    row = await StaffPasswordToken.get_or_none(jti_hash=_hash(claims['jti'])).select_related('staff')
    if row is None or str(row.staff_id) != claims['sub']:
        raise PasswordLinkUnusable('invalid')
    if not row.staff.is_active:
        raise PasswordLinkUnusable('deactivated')
    if row.used_at:
        raise PasswordLinkUnusable('used')
    if row.invalidated_at:
        raise PasswordLinkUnusable('replaced')
    if row.expires_at <= _now():
        raise PasswordLinkUnusable('expired')
    return row


async def check_link(token: str) -> StaffUser:
    """Read-only (the page's GET): whose link it is, or PasswordLinkUnusable with the reason."""
    return (await _usable(token)).staff


async def set_password(token: str, password: str, repeated: str, client_address: str = '') -> StaffUser:
    """Consume the link (atomically, once) and store the new password.

    The password is checked before the link is consumed, so a too-short try does not burn the link. Any
    session the account had ends: whoever held it before the reset is out.
    """
    row = await _usable(token)
    validated_new_password(password, repeated, await StaffUser.get(id=row.staff_id))
    password_hash = await hash_password(password)
    now = _now()
    async with in_transaction():
        consumed = await StaffPasswordToken.filter(
            id=row.id, used_at=None, invalidated_at=None, expires_at__gt=now
        ).update(used_at=now)
        if not consumed:
            raise PasswordLinkUnusable('used')
        await StaffUser.filter(id=row.staff_id, is_active=True).update(
            password_hash=password_hash, failed_attempts=0, locked_until=None
        )
        ended = await StaffSession.filter(staff_id=row.staff_id, revoked_at=None).update(revoked_at=now)
        staff = await StaffUser.get(id=row.staff_id)
        await audit.record(
            'staff.password_set',
            audit.Actor.staff(staff, client_address),
            object_type='staff',
            object_id=staff.id,
            detail={'purpose': row.purpose, 'sessions_ended': ended},
        )
    if ended:
        await events.publish_staff(staff.id, events.SESSION)
    return staff
