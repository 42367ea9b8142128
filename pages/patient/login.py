"""Login by magic link: ask for the email, say the link is on its way, let the link's Continue sign in."""

from fastapi.responses import RedirectResponse
from nicegui import app, ui

from pages.access import PATIENT_SESSION_KEY, client_address, current_patient
from pages.patient import router
from pages.patient.frame import frame
from services import magic_link, sessions
from services.email_addresses import InvalidEmail, validated_email
from services.errors import DomainError

LOGIN_EMAIL_KEY = 'login_email'


@router.page('/login')
async def login_page(reason: str = '') -> RedirectResponse | None:
    if await current_patient():
        return RedirectResponse('/', status_code=303)
    with frame('Log in', signed_in=False):
        if reason in sessions.PATIENT_END_MESSAGES:
            ui.label(sessions.PATIENT_END_MESSAGES[reason]).classes('text-body1 text-weight-medium').props(
                'role=status'
            ).mark('session-ended')
        ui.label('Log in to your patient portal').classes('text-h5').props('role=heading aria-level=1')
        ui.label(
            'Enter the email address your eye-care practice has on file. We will email you a link to log in: '
            'no password needed.'
        ).classes('text-body1')
        email = (
            ui.input('Email address')
            .props('type=email autocomplete=email inputmode=email outlined autofocus')
            .classes('w-full')
        )
        error = ui.label().classes('text-negative').props('role=alert aria-live=polite')

        async def send() -> None:
            error.text = ''
            try:
                address = validated_email(email.value)
                await magic_link.request_login_link(address, client_address())
            except (InvalidEmail, magic_link.TooManyRequests) as problem:
                error.text = str(problem)
                return
            app.storage.user[LOGIN_EMAIL_KEY] = address
            ui.navigate.to('/login/sent')

        email.on('keydown.enter', send)
        ui.button('Email me a login link', on_click=send).classes('w-full').props('size=lg no-caps')
        ui.link('How does logging in work?', '/help').classes('q-py-sm').style('min-height: 44px; line-height: 28px')


@router.page('/login/sent')
async def link_sent_page() -> RedirectResponse | None:
    address = app.storage.user.get(LOGIN_EMAIL_KEY)
    if not address:
        return RedirectResponse('/login', status_code=303)
    minutes = magic_link.link_settings().valid_minutes
    with frame('Check your email', signed_in=False):
        ui.label('Check your email').classes('text-h5').props('role=heading aria-level=1')
        # The same words whether or not the address has an account: the page must not reveal who is a patient.
        ui.label(
            f'If {address} belongs to a patient portal account, we have just sent a login link to it. '
            f'The link works once, for {minutes} minutes.'
        ).classes('text-body1')
        ui.label(
            'Not there within a few minutes? Look in your spam or junk folder, check the address, '
            'or ask for a new link.'
        ).classes('text-body1')
        with ui.card().classes('w-full'):
            ui.label('Reading the email on another device?').classes('text-subtitle1 text-weight-medium')
            ui.label('Type the 6-digit code from the email here instead of opening the link.')
            code = (
                ui.input('6-digit code')
                .props('inputmode=numeric autocomplete=one-time-code maxlength=6 outlined')
                .classes('w-full')
            )
            error = ui.label().classes('text-negative').props('role=alert aria-live=polite')

            async def use_code() -> None:
                error.text = ''
                try:
                    _, token = await magic_link.sign_in_with_code(address, code.value or '', client_address())
                except DomainError as problem:
                    error.text = str(problem)
                    return
                app.storage.user[PATIENT_SESSION_KEY] = token
                app.storage.user.pop(LOGIN_EMAIL_KEY, None)
                ui.navigate.to('/')

            code.on('keydown.enter', use_code)
            ui.button('Log in with code', on_click=use_code).classes('w-full').props('no-caps')
        ui.button('Ask for a new link', on_click=lambda: ui.navigate.to('/login')).props('flat no-caps')


@router.page('/login/link/{token}')
async def link_page(token: str) -> None:
    """Opening the link changes nothing (mail scanners fetch links): only the Continue click signs in."""
    try:
        await magic_link.check_link(token)
    except magic_link.LinkUnusable as problem:
        _unusable(str(problem))
        return
    with frame('Log in', signed_in=False):
        ui.label('Welcome back').classes('text-h5').props('role=heading aria-level=1')
        ui.label('Press Continue to log in to your patient portal on this device.').classes('text-body1')
        error = ui.label().classes('text-negative').props('role=alert aria-live=polite')

        async def continue_() -> None:
            try:
                _, session = await magic_link.sign_in_with_link(token, client_address())
            except magic_link.LinkUnusable as problem:
                error.text = f"This link can't be used. {problem}"
                return
            app.storage.user[PATIENT_SESSION_KEY] = session
            ui.navigate.to('/')

        ui.button('Continue', on_click=continue_).classes('w-full').props('size=lg no-caps')


def _unusable(reason: str) -> None:
    with frame("Link can't be used", signed_in=False):
        ui.label("This link can't be used").classes('text-h5').props('role=heading aria-level=1')
        ui.label(reason).classes('text-body1')
        ui.label('Ask for a new link: it arrives in a minute or two.').classes('text-body1')
        ui.button('Get a new login link', on_click=lambda: ui.navigate.to('/login')).classes('w-full').props(
            'size=lg no-caps'
        )


@router.page('/logout')
async def logout_page() -> RedirectResponse:
    await sessions.close_patient_session(app.storage.user.pop(PATIENT_SESSION_KEY, None))
    return RedirectResponse('/login', status_code=303)
