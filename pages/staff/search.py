"""Find a patient (`/staff`): by name, email, phone or date of birth; add a new patient."""

from urllib.parse import quote

from nicegui import ui

from pages.access import StaffViewer
from pages.staff.components import activation_help, portal_badge, us_date
from pages.staff.page import staff_page
from pages.staff.patient_form import patient_dialog
from services.patients import PatientInput, create_patient, search_patients
from services.phones import display_phone
from services.setup_status import SetupIncomplete, setup_status

RESULT_LIMIT = 50


@staff_page('', title='Patients')
async def patient_search_page(viewer: StaffViewer, q: str = '') -> None:

    @ui.refreshable
    async def results(query: str) -> None:
        if not query.strip():
            ui.label('Type a name ("rivera, jamie"), email, phone or date of birth to find a patient.').classes(
                'text-grey-7'
            )
            return
        rows = await search_patients(query, limit=RESULT_LIMIT)
        if not rows:
            ui.label(f'No patient matches "{query.strip()}".').classes('text-grey-8').props('role=status')
            return
        more = ' (showing the first 50: type more to narrow down)' if len(rows) == RESULT_LIMIT else ''
        ui.label(f'{len(rows)} patient{"s" if len(rows) != 1 else ""} found{more}').classes(
            'text-caption text-grey-7'
        ).props('role=status')
        with ui.element('q-markup-table').props('flat bordered separator=horizontal').classes('w-full'):
            with ui.element('thead'), ui.element('tr'):
                for heading in ('Name', 'Date of birth', 'Email', 'Phone', 'Portal'):
                    with ui.element('th').classes('text-left'):
                        ui.label(heading)
            with ui.element('tbody'):
                for row in rows:
                    url = f'/staff/patients/{row.id}'
                    with ui.element('tr').classes('cursor-pointer').on('click', lambda url=url: ui.navigate.to(url)):
                        with ui.element('td'):
                            ui.link(row.name, url).classes('text-weight-medium')
                        with ui.element('td'):
                            ui.label(us_date(row.date_of_birth))
                        with ui.element('td'):
                            ui.label(row.email or '—').classes('' if row.email else 'text-grey-6')
                        with ui.element('td'):
                            ui.label(display_phone(row.phone) or '—').classes('' if row.phone else 'text-grey-6').style(
                                'white-space: nowrap'
                            )
                        with ui.element('td'):
                            portal_badge(row.portal_status)

    async def search() -> None:
        query = box.value or ''
        ui.navigate.history.replace(f'/staff?q={quote(query)}' if query else '/staff')
        await results.refresh(query)

    async def new_patient() -> None:
        status = await setup_status()
        if not status.complete:  # say so now, not after the form is filled in
            ui.notify(str(SetupIncomplete(status)), type='warning', multi_line=True)
            return
        created: list[int] = []

        async def save(data: PatientInput) -> None:
            created.append((await create_patient(data, viewer.actor)).id)

        if await patient_dialog('New patient', save):
            ui.navigate.to(f'/staff/patients/{created[0]}')

    ready = (await setup_status()).complete  # before setup, the notice above says what is missing
    ui.label('Patients').classes('text-h5').props('role=heading aria-level=1')
    with ui.row().classes('w-full items-center no-wrap gap-3'):
        box = (
            ui.input('Find a patient', value=q, on_change=search)
            .props('outlined clearable autofocus debounce=250 type=search')
            .classes('col-grow')
            .mark('patient-search')
        )
        with box.add_slot('prepend'):
            ui.icon('search')
        ui.button('New patient', icon='person_add', on_click=new_patient).set_enabled(ready)
    ui.label('Name as "first last" or "last, first"; email; phone in any format; or DOB as MM/DD/YYYY.').classes(
        'text-caption text-grey-7 q-mt-none'
    )
    await results(q)
    activation_help()
