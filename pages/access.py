"""Who is asking, for both trees: the session keys, the viewer a page is handed, the caller's address.

The middleware in `portal.app` turns anonymous visitors away from every guarded path; the page
decorators (`pages.patient.page`, `pages.staff.page`) check the session again, against the database
(timeouts, revocation, a disabled portal or account), when a page loads and before every event.
"""

from dataclasses import dataclass

from nicegui import app, context
from nicegui.storage import request_contextvar

from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Practice
from models.staff import StaffUser
from services import audit, sessions, staff_totp

PATIENT_SESSION_KEY = 'portal_session'
STAFF_SESSION_KEY = 'staff_session'


@dataclass(frozen=True)
class PatientViewer:
    """The signed-in patient, as a page sees them: account, chart (with its practice) and audit actor."""

    account: PortalAccount
    patient: Patient
    actor: audit.Actor

    @property
    def practice(self) -> Practice:
        return self.patient.practice


@dataclass(frozen=True)
class StaffViewer:
    """The signed-in staff member, their audit actor, and the practice (None before setup)."""

    staff: StaffUser
    actor: audit.Actor
    practice: Practice | None

    @property
    def is_admin(self) -> bool:
        return self.staff.role == 'admin'


async def current_patient() -> PortalAccount | None:
    """The signed-in patient's account, or None; a dead session is forgotten on the way."""
    token = app.storage.user.get(PATIENT_SESSION_KEY)
    account = await sessions.resolve_patient_session(token)
    if account is None and token:
        app.storage.user.pop(PATIENT_SESSION_KEY, None)
    return account


async def current_staff(role: str | None = None) -> StaffUser | None:
    """The signed-in staff member, or None; with `role='admin'` only administrators pass. An administrator who
    must set up two-step sign-in first counts as not signed in (only the enrolment page is theirs)."""
    token = app.storage.user.get(STAFF_SESSION_KEY)
    staff = await sessions.resolve_staff_session(token)
    if staff is None and token:
        app.storage.user.pop(STAFF_SESSION_KEY, None)
    if staff is not None and role is not None and staff.role != role:
        return None
    if staff is not None and staff_totp.must_enrol(staff):
        return None
    return staff


def client_address() -> str:
    """The caller's address, for audit rows and per-client rate limits (pages and plain routes alike)."""
    try:
        return context.client.ip or ''
    except RuntimeError:  # a plain route (download): no NiceGUI client, but the request is known
        request = request_contextvar.get()
        return request.client.host if request is not None and request.client else ''


def patient_actor(account: PortalAccount) -> audit.Actor:
    return audit.Actor.patient(account.id, client_address())


def staff_actor(staff: StaffUser) -> audit.Actor:
    return audit.Actor.staff(staff, client_address())
