"""`patient_page`: every signed-in patient page is declared with it, so none can forget the guard.

It resolves the session (or sends the visitor to the login, saying why), draws the frame with the
practice's name and the tabs, hands the page a `PatientViewer`, and keeps the page obeying the session
while it stays open (`pages.page_guard`).
"""

import inspect
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from fastapi.responses import RedirectResponse
from nicegui import app, context

from pages.access import PATIENT_SESSION_KEY, PatientViewer, client_address
from pages.page_guard import guard_page
from pages.patient import prepaint
from pages.patient.frame import frame
from services import audit, events, patient_portal, sessions

LOGIN_URL = '/login'
PatientPage = Callable[..., Awaitable[None]]


def login_url(reason: str = '') -> str:
    """The login page, told why the visitor is there (signed out, timed out, portal disabled)."""
    return f'{LOGIN_URL}?reason={reason}' if reason in sessions.END_REASONS else LOGIN_URL


async def _viewer(token: str | None) -> PatientViewer | None:
    account = await sessions.resolve_patient_session(token)
    if account is None:
        return None
    patient = await patient_portal.signed_in_patient(account)
    return PatientViewer(account=account, patient=patient, actor=audit.Actor.patient(account.id, client_address()))


async def _ended(token: str | None) -> RedirectResponse:
    reason = await sessions.patient_session_end(token) if token else ''
    app.storage.user.pop(PATIENT_SESSION_KEY, None)
    return RedirectResponse(login_url(reason), status_code=303)


async def download_viewer() -> PatientViewer | None:
    """For plain routes (PDF, calendar file): the signed-in patient, or None."""
    return await _viewer(app.storage.user.get(PATIENT_SESSION_KEY))


def patient_page(path: str, *, title: str, tab: str = '') -> Callable[[PatientPage], PatientPage]:
    """Register `func(viewer, **path_params)` as a signed-in patient page at `path`."""

    def decorator(func: PatientPage) -> PatientPage:
        parameters = list(inspect.signature(func).parameters.values())[1:]  # all but the viewer

        @wraps(func)
        async def page(**params: Any) -> RedirectResponse | None:
            token = app.storage.user.get(PATIENT_SESSION_KEY)
            viewer = await _viewer(token)
            if viewer is None:
                return await _ended(token)

            async def check() -> str | None:
                if await sessions.resolve_patient_session(token) is not None:
                    return None
                reason = await sessions.patient_session_end(token)
                return login_url(reason)  # no storage access here: this may run in an event task

            guard_page(check, lambda handler: events.subscribe(viewer.patient.id, handler))
            with frame(title, active=tab, patient=viewer.patient):
                await func(viewer, **params)
            prepaint.add(context.client)
            return None

        # Looked up now, not at import: NiceGUI's test harness re-imports the page packages for every test.
        from pages.patient import router

        page.__signature__ = inspect.Signature(parameters, return_annotation=RedirectResponse | None)  # type: ignore[attr-defined]
        router.page(path)(page)
        return func

    return decorator
