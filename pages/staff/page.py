"""`staff_page`: every staff console page is declared with it, so none can forget the guard.

It resolves the staff session (or sends the visitor to the sign-in, saying why), refuses pages above the
member's role, draws the console frame, hands the page a `StaffViewer`, and keeps the page obeying the
session while it stays open (`pages.page_guard`): a signed-out, timed-out or deactivated member's open
page leaves without acting, and so does an admin page of someone who is no longer an admin.

An administrator without two-step sign-in (`staff_totp.must_enrol`: just created, just promoted, or reset)
gets only the enrolment page: every other page, handler and download of the session sends them there.
"""

import inspect
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from fastapi.responses import RedirectResponse
from nicegui import app, ui
from starlette.exceptions import HTTPException

from models.practice import Practice
from models.staff import StaffUser
from pages.access import STAFF_SESSION_KEY, StaffViewer, client_address
from pages.page_guard import guard_page
from pages.staff.frame import frame
from pages.staff.setup_notice import SETUP_URL, setup_notice
from services import appointment_requests, audit, events, sessions, staff_totp, verification_requests
from services.setup_status import setup_status

LOGIN_URL = '/staff/login'
HOME_URL = '/staff'
ENROL_URL = '/staff/two-factor'  # where an administrator without a second factor is kept until it is set up
StaffPage = Callable[..., Awaitable[None]]
PAGE_ROLES: dict[str, str | None] = {}  # every staff page's path and the role it needs (the attack tests walk it)


def login_url(reason: str = '', next_path: str = '') -> str:
    """The sign-in page, told why (signed out, timed out, deactivated) and where to return."""
    query = [f'reason={reason}'] if reason in sessions.END_REASONS else []
    if return_path(next_path) != HOME_URL:
        query.append(f'next={quote(next_path)}')
    return LOGIN_URL + ('?' + '&'.join(query) if query else '')


def enrol_url(next_path: str = '') -> str:
    """The two-step set-up, told where the member was going, so it can take them there once it is on."""
    onward = return_path(next_path)
    return ENROL_URL if onward in (HOME_URL, ENROL_URL) else f'{ENROL_URL}?next={quote(onward)}'


def return_path(next_path: str) -> str:
    """Where a `next=` query may send a member: a console path (so never another site, nor `//host`)."""
    return next_path if next_path.startswith('/staff') else HOME_URL


def _allowed(staff: StaffUser, role: str | None) -> bool:
    return role is None or staff.role == role


def _kept_away(staff: StaffUser, here: str) -> bool:
    """An administrator who must set up two-step sign-in first, anywhere but the enrolment page."""
    return here != ENROL_URL and staff_totp.must_enrol(staff)


async def download_viewer(role: str | None = None) -> StaffViewer | None:
    """For plain routes (CSV exports, PDFs): the signed-in staff member with that role, or None.
    An administrator who must set up two-step sign-in first is sent to it (a redirect, whatever the route)."""
    staff = await sessions.resolve_staff_session(app.storage.user.get(STAFF_SESSION_KEY))
    if staff is not None and staff_totp.must_enrol(staff):
        raise HTTPException(303, headers={'Location': ENROL_URL})
    if staff is None or not _allowed(staff, role):
        return None
    return StaffViewer(staff=staff, actor=audit.Actor.staff(staff, client_address()), practice=await Practice.first())


def staff_page(path: str, *, title: str, role: str | None = None) -> Callable[[StaffPage], StaffPage]:
    """Register `func(viewer, **path_params)` as a staff page at `/staff{path}`; `role='admin'` for admin pages."""

    def decorator(func: StaffPage) -> StaffPage:
        parameters = list(inspect.signature(func).parameters.values())[1:]  # all but the viewer

        @wraps(func)
        async def page(**params: Any) -> RedirectResponse | None:
            token = app.storage.user.get(STAFF_SESSION_KEY)
            request = ui.context.client.request
            here = request.url.path if request is not None else ''
            staff = await sessions.resolve_staff_session(token)
            if staff is None:
                reason = await sessions.staff_session_end(token) if token else ''
                app.storage.user.pop(STAFF_SESSION_KEY, None)
                return RedirectResponse(login_url(reason, here), status_code=303)
            if _kept_away(staff, here):
                return RedirectResponse(ENROL_URL, status_code=303)
            setup = await setup_status()
            if not setup.complete and setup.practice is None and staff.role == 'admin' and here == HOME_URL:
                return RedirectResponse(SETUP_URL, status_code=303)  # an empty installation: start with setup
            viewer = StaffViewer(staff=staff, actor=audit.Actor.staff(staff, client_address()), practice=setup.practice)

            async def check() -> str | None:
                current = await sessions.resolve_staff_session(token)
                if current is None:
                    reason = await sessions.staff_session_end(token)
                    return login_url(reason, here)  # no storage access here: this may run in an event task
                if _kept_away(current, here):
                    return ENROL_URL  # e.g. promoted to admin while this page was open
                return None if _allowed(current, role) else HOME_URL

            guard_page(check, lambda handler: events.subscribe_staff(staff.id, handler))
            open_requests = await appointment_requests.open_count() if setup.practice is not None else None
            open_verifications = await verification_requests.open_count() if setup.practice is not None else None
            with frame(title, staff, open_requests, open_verifications):
                if not _allowed(staff, role):
                    _not_allowed()
                    return None
                if not setup.complete and here != SETUP_URL:
                    setup_notice(
                        setup, is_admin=viewer.is_admin
                    )  # until setup is done, every page says what is missing
                await func(viewer, **params)
            return None

        # Looked up now, not at import: NiceGUI's test harness re-imports the page packages for every test.
        from pages.staff import router

        page.__signature__ = inspect.Signature(parameters, return_annotation=RedirectResponse | None)  # type: ignore[attr-defined]
        router.page(path)(page)
        PAGE_ROLES[router.prefix + path] = role
        return func

    return decorator


def _not_allowed() -> None:
    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        ui.label('This page is for administrators').classes('text-h5').props('role=heading aria-level=1')
        ui.label('Ask an administrator of your practice if you need something changed here.')
        ui.link('Back to patient search', HOME_URL)
