"""What every staff page says while the practice is not set up (drawn by `staff_page` above the content)."""

from nicegui import ui

from services.setup_status import SetupStatus

SETUP_URL = '/staff/setup'


def setup_notice(status: SetupStatus, *, is_admin: bool) -> None:
    with ui.card().classes('w-full q-pa-md bg-orange-1').props('flat bordered role=status').mark('setup-notice'):
        ui.label(status.sentence()).classes('text-weight-medium')
        if is_admin:
            with ui.row().classes('items-center gap-2'):
                ui.label('Patients and prescriptions need it.')
                ui.link('Finish the setup', SETUP_URL).mark('finish-setup')
        else:
            ui.label('Patients and prescriptions need it: ask an administrator to finish setup.')
