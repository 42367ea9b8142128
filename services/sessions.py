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
from services import events
from services.joined import Chain

TOUCH_EVERY = timedelta(seconds=30)
S = TypeVar('S', bound=SessionBase)

# Why a session no longer works: the login page tells the person which of these happened.
SIGNED_OUT = 'signed_out'
TIMED_OUT = 'timed_out'
DISABLED = 'disabled'  # the patient's portal was disabled, or the staff account deactivated
END_REASONS = (SIGNED_OUT, TIMED_OUT, DISABLED)
PATIENT_END_MESSAGES = {
    SIGNED_OUT: 'You have logged out.',
    TIMED_OUT: 'You were logged out after a period without activity. Log in again to continue.',
    DISABLED: 'Your patient portal access has been turned off by the practice. Please call the practice.',
}
STAFF_END_MESSAGES = {
    SIGNED_OUT: 'You have signed out.',
    TIMED_OUT: 'You were signed out after a period without activity. Sign in again to continue.',
    DISABLED: 'This staff account has been deactivated. Ask an administrator of your practice.',
}


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


_timeouts = Timeouts()

# What each page load reads first, in one statement: a patient session with its account, the patient and their
# practice (the page's greeting, footer and time zone: `patient_portal.signed_in_patient` then needs no query);
# a staff session with its staff member.
_PATIENT_SESSION = Chain(PortalSession, ('account', 'patient', 'practice'))
_STAFF_SESSION = Chain(StaffSession, ('staff',))


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


async def _resolve(chain: Chain[S], token: str | None) -> S | None:
    if not token:
        return None
    model = chain.root
    session = await chain.first(token_hash=token_hash(token), revoked_at=None)
    if session is None:
        return None
    now = _now()
    if now >= session.expires_at or now - session.last_seen_at >= _timeouts.idle:
        await model.filter(id=session.id).update(revoked_at=now)
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        await model.filter(id=session.id).update(last_seen_at=now)
    return session


async def _revoke(model: type[S], token: str | None) -> S | None:
    """End the session; returns its row (or None when the token was unknown or already ended)."""
    if not token:
        return None
    session = await model.filter(token_hash=token_hash(token), revoked_at=None).first()
    if session is not None:
        await model.filter(id=session.id, revoked_at=None).update(revoked_at=_now())
    return session


def _timed_out(session: SessionBase) -> bool:
    """Whether the session ran out (idle or absolute) rather than being ended by someone."""
    deadline = min(session.expires_at, session.last_seen_at + _timeouts.idle)
    ended = session.revoked_at or _now()
    return ended >= deadline


async def _end_reason(model: type[S], token: str | None, related: str) -> str:
    if not token:
        return SIGNED_OUT
    session = await model.filter(token_hash=token_hash(token)).select_related(related).first()
    if session is None:
        return SIGNED_OUT
    owner = getattr(session, related)
    if not (owner.is_active):
        return DISABLED
    return TIMED_OUT if _timed_out(session) else SIGNED_OUT


async def open_patient_session(account: PortalAccount, client_address: str) -> str:
    return await _open(PortalSession, client_address, account=account)


async def resolve_patient_session(token: str | None) -> PortalAccount | None:
    """The account behind a live session, or None (expired, revoked, or the portal was disabled); its patient
    and their practice come with it (`account.patient`, `account.patient.practice`)."""
    session = await _resolve(_PATIENT_SESSION, token)
    if session is None or not session.account.is_active:
        return None
    return session.account


async def close_patient_session(token: str | None) -> None:
    """Log out: the session ends, and the patient's other open pages hear of it and leave."""
    session = await _revoke(PortalSession, token)
    if session is not None:
        account = await PortalAccount.get(id=session.account_id)
        await events.publish(account.patient_id, events.SESSION)


async def patient_session_end(token: str | None) -> str:
    """Why this patient token stopped working: signed out, timed out, or the portal was disabled."""
    return await _end_reason(PortalSession, token, 'account')


async def open_staff_session(staff: StaffUser, client_address: str) -> str:
    return await _open(StaffSession, client_address, staff=staff)


async def resolve_staff_session(token: str | None) -> StaffUser | None:
    session = await _resolve(_STAFF_SESSION, token)
    if session is None or not session.staff.is_active:
        return None
    return session.staff


async def close_staff_session(token: str | None) -> None:
    session = await _revoke(StaffSession, token)
    if session is not None:
        await events.publish_staff(session.staff_id, events.SESSION)


async def staff_session_end(token: str | None) -> str:
    """Why this staff token stopped working: signed out, timed out, or the account was deactivated."""
    return await _end_reason(StaffSession, token, 'staff')
