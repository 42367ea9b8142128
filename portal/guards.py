"""Who is asking: one helper per tree, called at the top of every page and download endpoint.

The middleware in `portal.app` already turns anonymous visitors away from guarded paths; these
helpers check the session against the database (timeouts, revocation, disabled portal) as well.
"""

from nicegui import app, context

from models.portal_account import PortalAccount
from models.staff import StaffUser
from services import audit, sessions

PATIENT_SESSION_KEY = 'portal_session'
STAFF_SESSION_KEY = 'staff_session'


async def current_patient() -> PortalAccount | None:
    """The signed-in patient's account, or None; a dead session is forgotten on the way."""
    token = app.storage.user.get(PATIENT_SESSION_KEY)
    account = await sessions.resolve_patient_session(token)
    if account is None and token:
        app.storage.user.pop(PATIENT_SESSION_KEY, None)
    return account


async def require_staff(role: str | None = None) -> StaffUser | None:
    """The signed-in staff member, or None; with `role='admin'` only administrators pass."""
    token = app.storage.user.get(STAFF_SESSION_KEY)
    staff = await sessions.resolve_staff_session(token)
    if staff is None and token:
        app.storage.user.pop(STAFF_SESSION_KEY, None)
    if staff is not None and role is not None and staff.role != role:
        return None
    return staff


def client_address() -> str:
    """The caller's address, for audit rows and per-client rate limits."""
    try:
        return context.client.ip or ''
    except RuntimeError:
        return ''


def patient_actor(account: PortalAccount) -> audit.Actor:
    return audit.Actor.patient(account.id, client_address())


def staff_actor(staff: StaffUser) -> audit.Actor:
    return audit.Actor.staff(staff, client_address())
