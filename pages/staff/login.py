"""Staff sign-in and sign-out."""

from fastapi.responses import RedirectResponse
from nicegui import app, ui

from pages.access import STAFF_SESSION_KEY, client_address
from pages.staff import router
from pages.staff.frame import frame
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


@router.page('/logout')
async def staff_logout_page() -> RedirectResponse:
    await sessions.close_staff_session(app.storage.user.pop(STAFF_SESSION_KEY, None))
    return RedirectResponse('/staff/login', status_code=303)
