"""`/staff/set-password/{token}` (public): a new or reset team member chooses their password.

Opening the page only checks the link (mail scanners fetch links; they must not burn them); pressing
the button consumes it. Then the member signs in as usual.
"""

from nicegui import ui

from pages.access import client_address
from pages.staff import router
from pages.staff.frame import frame
from services import staff_password
from services.errors import DomainError

LOGIN_URL = '/staff/login'


@router.page('/set-password/{token}')
async def set_password_page(token: str) -> None:
    ui.add_head_html('<meta name="referrer" content="no-referrer">')  # the token is in this page's address
    with frame('Choose your password'), ui.card().classes('w-full max-w-md self-center q-pa-lg'):
        ui.label('Choose your password').classes('text-h5').props('role=heading aria-level=1')
        try:
            staff = await staff_password.check_link(token)
        except DomainError as error:
            ui.label(str(error)).props('role=alert').mark('set-password-refused')
            ui.link('Go to the staff sign-in', LOGIN_URL)
            return

        with ui.column().classes('w-full gap-2') as form:
            ui.label(f'For {staff.name} ({staff.email}).')
            ui.label(
                f'Use at least {staff_password.MIN_PASSWORD_LENGTH} characters. A few unrelated words with spaces '
                'are easy to type and hard to guess; no special characters are required.'
            ).classes('text-grey-8')
            ui.input(value=staff.email).props('type=email autocomplete=username readonly').style('display: none')
            password = (
                ui.input('New password', password=True, password_toggle_button=True)
                .props('outlined autocomplete=new-password')
                .classes('w-full')
                .mark('new-password')
            )
            repeated = (
                ui.input('Repeat the password', password=True)
                .props('outlined autocomplete=new-password')
                .classes('w-full')
                .mark('repeat-password')
            )
            problem = ui.label().classes('text-negative').props('role=alert')

            async def save() -> None:
                problem.text = ''
                try:
                    await staff_password.set_password(
                        token, password.value or '', repeated.value or '', client_address()
                    )
                except DomainError as error:
                    problem.text = str(error)
                    return
                form.clear()
                with form:
                    ui.label('Your password is set. Sign in with your email address and the new password.').props(
                        'role=status'
                    ).mark('password-set')
                    ui.button('Go to sign-in', on_click=lambda: ui.navigate.to(LOGIN_URL))

            repeated.on('keydown.enter', save)
            ui.button('Set password', on_click=save).classes('w-full').style('min-height: 44px').mark('set-password')
