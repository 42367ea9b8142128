"""Staff sign-in and sign-out."""

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from pages import csrf
from pages.access import STAFF_SESSION_KEY, client_address
from pages.staff import router
from pages.staff.frame import frame
from pages.staff.page import HOME_URL, login_url
from services import sessions, staff_auth
from services.errors import DomainError


@router.page('/login')
def staff_login_page(next: str = '/staff', reason: str = '') -> None:  # noqa: A002
    target = next if next.startswith('/staff') and not next.startswith('//') else '/staff'
    with frame('Sign in'), ui.card().classes('w-full max-w-md self-center q-pa-lg'):
        ui.label('Staff sign-in').classes('text-h5').props('role=heading aria-level=1')
        if reason in sessions.STAFF_END_MESSAGES:
            ui.label(sessions.STAFF_END_MESSAGES[reason]).classes('text-body1').props('role=status').mark(
                'session-ended'
            )
        email = ui.input('Email').props('type=email autocomplete=username outlined').classes('w-full')
        password = ui.input('Password', password=True).props('autocomplete=current-password outlined').classes('w-full')
        error = ui.label().classes('text-negative').props('role=alert')

        async def sign_in() -> None:
            error.text = ''
            try:
                staff = await staff_auth.authenticate(email.value or '', password.value or '', client_address())
            except DomainError as problem:
                error.text = str(problem)
                return
            app.storage.user[STAFF_SESSION_KEY] = await sessions.open_staff_session(staff, client_address())
            ui.navigate.to(target)

        password.on('keydown.enter', sign_in)
        ui.button('Sign in', on_click=sign_in).classes('w-full')


@router.get('/logout', include_in_schema=False)
def staff_logout_get() -> RedirectResponse:
    """Signing out is a POST (another site could make a browser GET this): a GET changes nothing."""
    return RedirectResponse(HOME_URL, status_code=303)


@router.post('/logout', include_in_schema=False)
async def staff_logout(request: Request) -> RedirectResponse:
    form = await request.form()
    if not csrf.is_valid(request, form.get(csrf.FIELD)):
        return RedirectResponse(HOME_URL, status_code=303)  # a forged or stale form: still signed in, nothing done
    await sessions.close_staff_session(app.storage.user.pop(STAFF_SESSION_KEY, None))
    return RedirectResponse(login_url(sessions.SIGNED_OUT), status_code=303)
