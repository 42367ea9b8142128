"""Two-step sign-in (`/staff/two-factor`): any team member sets up codes from an authenticator app, and an
administrator must (until then, this is the only page of the console they reach: `pages.staff.page`).

The QR and the secret are drawn once, on this page only; the secret stays on the server until the member
proves the app works by typing a code. Ten recovery codes are shown once, then kept only as hashes.
Administrators cannot turn it off; anyone can set it up again on a new phone, which replaces the old one.
"""

from nicegui import ui

from models.staff import StaffUser
from pages.access import StaffViewer
from pages.staff.page import return_path, staff_page
from services import staff_totp
from services.errors import DomainError


@staff_page('/two-factor', title='Two-step sign-in')
async def two_factor_page(viewer: StaffViewer, next: str = '') -> None:  # noqa: A002 - the sign-in's own name
    onward = return_path(next)  # where an administrator who had to set it up first was going
    ui.label('Two-step sign-in').classes('text-h5').props('role=heading aria-level=1')
    ui.label(
        'After your password, the sign-in asks for a 6-digit code from an authenticator app on your phone '
        '(for example Google Authenticator, Microsoft Authenticator or 1Password). Someone who learns your '
        'password still cannot sign in.'
    ).classes('text-body1')

    @ui.refreshable
    async def content() -> None:
        staff = await StaffUser.get(id=viewer.staff.id)
        if staff_totp.is_enabled(staff):
            await _enabled(viewer, staff, content)
        else:
            _offer(viewer, staff, content, onward)

    await content()


async def _enabled(viewer: StaffViewer, staff: StaffUser, content: ui.refreshable) -> None:
    left = await staff_totp.recovery_codes_left(viewer.staff.id)
    ui.label('Two-step sign-in is on.').classes('text-h6').mark('totp-on')
    ui.label(f'{left} recovery codes left.').classes('text-body1')
    if staff_totp.must_keep(staff):
        ui.label(
            'Administrators must keep two-step sign-in on. On a new phone, set it up again: the old phone and '
            'your old recovery codes then stop working.'
        ).classes('text-body1').mark('totp-kept')
    else:
        with ui.row().classes('items-end gap-2'):
            code = ui.input('Code from your app').props('autocomplete=one-time-code outlined')
            error = ui.label().classes('text-negative').props('role=alert')

            async def turn_off() -> None:
                try:
                    await staff_totp.turn_off(viewer.staff.id, code.value or '', viewer.actor)
                except DomainError as problem:
                    error.text = str(problem)
                    return
                content.refresh()

            ui.button('Turn off', on_click=turn_off).props('outline no-caps color=negative').mark('totp-off')
    area = ui.column().classes('w-full gap-2')
    with area:
        ui.button('Set up on a new phone', on_click=lambda: _enrol(viewer, area, content, to_console='')).props(
            'outline no-caps'
        ).mark('totp-again')


def _offer(viewer: StaffViewer, staff: StaffUser, content: ui.refreshable, onward: str) -> None:
    required = staff_totp.must_enrol(staff)
    if required:
        with ui.card().classes('w-full q-pa-md bg-amber-1').props('flat bordered'):
            ui.label(staff_totp.ENROL_FIRST).classes('text-body1 text-weight-medium').props('role=status').mark(
                'totp-required'
            )
    area = ui.column().classes('w-full gap-2')
    with area:
        ui.label('Two-step sign-in is off.').classes('text-body1')
        then = onward if required else ''
        ui.button('Set up two-step sign-in', on_click=lambda: _enrol(viewer, area, content, to_console=then)).props(
            'no-caps'
        ).mark('totp-start')


def _enrol(viewer: StaffViewer, area: ui.column, content: ui.refreshable, *, to_console: str) -> None:
    """QR, typed code, recovery codes; `to_console` is where to go next when the console was waiting for it
    (an administrator), or empty."""
    secret = staff_totp.new_secret()
    practice = viewer.practice.name if viewer.practice else ''
    area.clear()
    with area:
        ui.label('1. Scan this code with your authenticator app.').classes('text-body1')
        ui.html(staff_totp.qr_svg(staff_totp.provisioning_uri(secret, viewer.staff, practice)), sanitize=False)
        grouped = ' '.join(secret[i : i + 4] for i in range(0, len(secret), 4))
        ui.label(f'Or type this key into the app: {grouped}').classes('text-body2').mark('totp-secret')
        ui.label('2. Type the 6-digit code the app shows.').classes('text-body1')
        code = ui.input('Code').props('autocomplete=one-time-code inputmode=numeric outlined')
        error = ui.label().classes('text-negative').props('role=alert')

        async def turn_on() -> None:
            try:
                codes = await staff_totp.enable(viewer.staff.id, secret, code.value or '', viewer.actor)
            except DomainError as problem:
                error.text = str(problem)
                return
            area.clear()
            with area:
                ui.label('Two-step sign-in is on.').classes('text-h6')
                ui.label(
                    'Keep these recovery codes somewhere safe (print them): each signs you in once without '
                    'the app. They are shown only now.'
                ).classes('text-body1')
                ui.html('<pre>' + '\n'.join(codes) + '</pre>', sanitize=False).mark('recovery-codes')
                if to_console:
                    ui.button('Continue to the console', on_click=lambda: ui.navigate.to(to_console)).props(
                        'no-caps'
                    ).mark('totp-continue')
                else:
                    ui.button('Done', on_click=content.refresh).props('no-caps')

        ui.button('Turn on', on_click=turn_on).props('no-caps').mark('totp-turn-on')
