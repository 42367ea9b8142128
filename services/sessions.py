"""Server-side sessions for patients and staff, with idle and absolute timeouts.

The browser's NiceGUI user storage holds a random token; the database holds its hash, so a leaked
database never yields a usable session, and revoking a row ends the session everywhere at once.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from models.portal_account import PortalAccount
from models.sessions import PortalSession, SessionBase, StaffSession
from models.staff import StaffUser

TOUCH_EVERY = timedelta(seconds=30)
S = TypeVar('S', bound=SessionBase)


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


_timeouts = Timeouts()


def configure(idle_minutes: int, absolute_hours: int) -> None:
    global _timeouts
    _timeouts = Timeouts(idle=timedelta(minutes=idle_minutes), absolute=timedelta(hours=absolute_hours))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


async def _open(model: type[S], client_address: str, **owner: object) -> str:
    token, now = secrets.token_urlsafe(32), _now()
    await model.create(
        token_hash=token_hash(token),
        last_seen_at=now,
        expires_at=now + _timeouts.absolute,
        client_address=client_address[:64],
        **owner,
    )
    return token


async def _resolve(model: type[S], token: str | None, related: str) -> S | None:
    if not token:
        return None
    session = await model.filter(token_hash=token_hash(token), revoked_at=None).select_related(related).first()
    if session is None:
        return None
    now = _now()
    if now >= session.expires_at or now - session.last_seen_at >= _timeouts.idle:
        await model.filter(id=session.id).update(revoked_at=now)
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        await model.filter(id=session.id).update(last_seen_at=now)
    return session


async def _revoke(model: type[S], token: str | None) -> None:
    if token:
        await model.filter(token_hash=token_hash(token), revoked_at=None).update(revoked_at=_now())


async def open_patient_session(account: PortalAccount, client_address: str) -> str:
    return await _open(PortalSession, client_address, account=account)


async def resolve_patient_session(token: str | None) -> PortalAccount | None:
    """The account behind a live session, or None (expired, revoked, or the portal was disabled)."""
    session = await _resolve(PortalSession, token, 'account')
    if session is None or not session.account.is_active:
        return None
    return session.account


async def close_patient_session(token: str | None) -> None:
    await _revoke(PortalSession, token)


async def open_staff_session(staff: StaffUser, client_address: str) -> str:
    return await _open(StaffSession, client_address, staff=staff)


async def resolve_staff_session(token: str | None) -> StaffUser | None:
    session = await _resolve(StaffSession, token, 'staff')
    if session is None or not session.staff.is_active:
        return None
    return session.staff


async def close_staff_session(token: str | None) -> None:
    await _revoke(StaffSession, token)
