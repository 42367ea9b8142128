"""Staff sign-in and sign-out."""

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from models.staff import StaffUser
from pages import csrf
from pages.access import STAFF_SESSION_KEY, client_address
from pages.staff import router
from pages.staff.frame import frame
from pages.staff.page import HOME_URL, enrol_url, login_url, return_path
from services import sessions, staff_auth, staff_totp
from services.errors import DomainError


@router.page('/login')
def staff_login_page(next: str = '/staff', reason: str = '') -> None:  # noqa: A002
    target = return_path(next)
    with frame('Sign in'), ui.card().classes('w-full max-w-md self-center q-pa-lg'):
        ui.label('Staff sign-in').classes('text-h5').props('role=heading aria-level=1')
        if reason in sessions.STAFF_END_MESSAGES:
            ui.label(sessions.STAFF_END_MESSAGES[reason]).classes('text-body1').props('role=status').mark(
                'session-ended'
            )
        with ui.column().classes('w-full gap-2') as first_step:
            email = ui.input('Email').props('type=email autocomplete=username outlined').classes('w-full')
            password = ui.input('Password', password=True).props('autocomplete=current-password outlined')
            password.classes('w-full')
        # Only after a correct password, for members who set up two-step sign-in: the page keeps who passed
        # the first step (server-side); nothing is signed in until the code is right too.
        with ui.column().classes('w-full gap-2') as second_step:
            ui.label('Enter the 6-digit code from your authenticator app, or one of your recovery codes.')
            code = ui.input('Code').props('autocomplete=one-time-code inputmode=numeric outlined').classes('w-full')
        second_step.set_visibility(False)
        error = ui.label().classes('text-negative').props('role=alert')
        passed: list[StaffUser] = []

        async def signed_in(staff: StaffUser) -> None:
            app.storage.user[STAFF_SESSION_KEY] = await sessions.open_staff_session(staff, client_address())
            ui.navigate.to(enrol_url(target) if staff_totp.must_enrol(staff) else target)

        async def sign_in() -> None:
            error.text = ''
            try:
                if passed:
                    await signed_in(await staff_auth.second_factor(passed[0], code.value or '', client_address()))
                    return
                staff = await staff_auth.authenticate(email.value or '', password.value or '', client_address())
            except staff_auth.SignInFailed as problem:  # wrong, or locked: back to the start
                passed.clear()
                first_step.set_visibility(True)
                second_step.set_visibility(False)
                error.text = str(problem)
                return
            except DomainError as problem:
                error.text = str(problem)
                return
            if staff_auth.needs_second_factor(staff):
                passed.append(staff)
                first_step.set_visibility(False)
                second_step.set_visibility(True)
                password.value = ''
                return
            await signed_in(staff)

        password.on('keydown.enter', sign_in)
        code.on('keydown.enter', sign_in)
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
