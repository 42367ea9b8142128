"""The patient form, as a dialog: used for a new patient and for editing demographics."""

from collections.abc import Awaitable, Callable

from nicegui import ui

from models.patient import Patient
from pages.dialog import titled_dialog
from pages.staff.components import us_date
from services.errors import DomainError
from services.patients import PatientInput
from services.phones import display_phone


async def patient_dialog(
    title: str,
    save: Callable[[PatientInput], Awaitable[object]],
    *,
    patient: Patient | None = None,
    email_locked: bool = False,
) -> bool:
    """Open the form; `save` raises DomainError with the sentence to show. True once saved."""
    with titled_dialog(title, style='max-width: 560px', classes='w-full') as dialog:
        with ui.grid(columns=2).classes('w-full gap-x-4 gap-y-1'):
            first = ui.input('First name', value=patient.first_name if patient else '').props(
                'outlined dense autofocus'
            )
            last = ui.input('Last name', value=patient.last_name if patient else '').props('outlined dense')
            born = ui.input(
                'Date of birth (MM/DD/YYYY)', value=us_date(patient.date_of_birth) if patient else ''
            ).props('outlined dense')
            chart = ui.input('Chart number', value=patient.chart_number if patient else '').props('outlined dense')
        email = (
            ui.input('Email', value=patient.email if patient else '')
            .props('outlined dense type=email')
            .classes('w-full')
        )
        if email_locked:
            email.props('readonly')
            ui.label(
                'Locked while the patient portal is active: disable the portal to change the login email.'
            ).classes('text-caption text-grey-7 q-mt-none')
        phone = (
            ui.input(
                'Mobile phone', value=display_phone(patient.phone) if patient else '', placeholder='(207) 555-0134'
            )
            .props('outlined dense type=tel')
            .classes('w-full')
        )
        address = (
            ui.input('Address', value=patient.address if patient else '').props('outlined dense').classes('w-full')
        )
        problem = ui.label().classes('text-negative').props('role=alert')

        async def submit() -> None:
            problem.text = ''
            data = PatientInput(
                first_name=first.value or '',
                last_name=last.value or '',
                date_of_birth=born.value or '',
                email=email.value or '',
                phone=phone.value or '',
                address=address.value or '',
                chart_number=chart.value or '',
            )
            try:
                await save(data)
            except DomainError as error:
                problem.text = str(error)
                return
            dialog.submit(True)

        with ui.row().classes('w-full justify-end'):
            ui.button('Cancel', on_click=lambda: dialog.submit(False)).props('flat')
            ui.button('Save', on_click=submit).mark('save-patient')
    dialog.open()
    saved = await dialog
    dialog.delete()
    return bool(saved)
