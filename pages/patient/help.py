"""The public help page: how logging in works, what the portal shows, and whom to call."""

from nicegui import ui

from pages.access import current_patient
from pages.patient import router
from pages.patient.frame import frame
from services import magic_link, patient_portal


@router.page('/help')
async def help_page() -> None:
    signed_in = await current_patient() is not None
    practice = await patient_portal.practice_contact()
    minutes = magic_link.link_settings().valid_minutes
    with frame('Help', signed_in=signed_in, practice=practice):
        ui.label('Help').classes('text-h5').props('role=heading aria-level=1')

        _section('How do I log in?')
        ui.markdown(
            '1. On the login page, enter the email address your practice has on file.\n'
            '2. We email you a login link at once. There is no password, ever.\n'
            '3. Open the link and press **Continue**.\n\n'
            f'Each link works **once** and for **{minutes} minutes**. Asking for a new link cancels the older '
            'ones, so always use the newest email. Reading email on another device? Type the 6-digit code '
            'from the email on the device where you asked for the link.'
        )

        _section('No email arrived?')
        ui.markdown(
            '- Wait a few minutes, then look in your **spam or junk** folder.\n'
            '- Check that you typed the address your practice has on file.\n'
            '- You can ask for a new link after a minute.\n'
            '- If the practice has not switched on your portal yet, no email is sent: please call them.'
        )

        _section('What can I see here?')
        ui.markdown(
            '- **Prescriptions**: your glasses and contact lens prescriptions, to view, print or download '
            'as a PDF. Expired ones stay listed and are marked *Expired*.\n'
            '- **Appointments**: your upcoming visits, and a form to ask for a new one.\n'
            '- **Billing**: what you owe, your open invoices and the ones already paid.'
        )

        _section('Privacy')
        ui.label(
            'Only you can see your records. For your safety we log you out after a while without activity; '
            'log out yourself on a shared computer.'
        ).classes('text-body1')

        _section('Who do I call?')
        if practice is not None and practice.phone:
            ui.label(f'{practice.name}: {practice.phone}').classes('text-body1')
            if practice.address:
                ui.label(practice.address).classes('text-body2 text-grey-9')
        else:
            ui.label('Please call your eye-care practice.').classes('text-body1')
        ui.button('Back to the portal' if signed_in else 'Go to login').props(
            f'outline no-caps href={"/" if signed_in else "/login"}'
        ).style('min-height: 44px')


def _section(title: str) -> None:
    ui.label(title).classes('text-h6 q-mt-sm').props('role=heading aria-level=2')
