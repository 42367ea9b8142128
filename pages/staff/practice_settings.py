"""Practice settings (`/staff/settings`, admin): the practice's details, its settings, locations and providers.

Everything the first-time setup asked for stays editable here. Locations and providers are deactivated,
never deleted: appointments and prescriptions keep pointing at them.
"""

from nicegui import ui

from models.practice import Location, Provider
from pages.access import StaffViewer
from pages.staff.page import staff_page
from pages.staff.practice_forms import (
    attempt,
    base_url_note,
    form_dialog,
    location_fields,
    practice_fields,
    problem_label,
    provider_fields,
    settings_fields,
)
from services import locations, practice_setup, providers


def _table_head(*headings: str) -> None:
    with ui.element('thead'), ui.element('tr'):
        for heading in headings:
            with ui.element('th').classes('text-left'):
                ui.label(heading)


def _cell(text: str, *, muted: bool = False) -> None:
    with ui.element('td'):
        ui.label(text or '—').classes('text-grey-7' if muted or not text else '')


@staff_page('/settings', title='Practice settings', role='admin')
async def practice_settings_page(viewer: StaffViewer) -> None:
    ui.label('Practice settings').classes('text-h5').props('role=heading aria-level=1')
    practice = await practice_setup.current_practice()

    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        ui.label('Practice').classes('text-h6').props('role=heading aria-level=2')
        read_practice = practice_fields(practice)
        base_url_note()
        practice_problem = problem_label()

        async def save_practice() -> None:
            await attempt(
                practice_problem, lambda: practice_setup.save_practice(read_practice(), viewer.actor), 'Practice saved'
            )

        ui.button('Save the practice', on_click=save_practice).mark('save-practice')

    if practice is not None:
        with ui.card().classes('w-full q-pa-md').props('flat bordered'):
            ui.label('Prescriptions, reminders and billing').classes('text-h6').props('role=heading aria-level=2')
            read_settings = settings_fields(practice_setup.settings_of(practice))
            settings_problem = problem_label()

            async def save_settings() -> None:
                await attempt(
                    settings_problem,
                    lambda: practice_setup.save_settings(read_settings(), viewer.actor),
                    'Settings saved',
                )

            ui.button('Save the settings', on_click=save_settings).mark('save-settings')

    @ui.refreshable
    async def location_table() -> None:
        rows = await locations.list_locations()
        if not rows:
            ui.label('No locations yet.').classes('text-grey-7')
            return
        problem = problem_label()
        with ui.element('q-markup-table').props('flat bordered separator=horizontal').classes('w-full'):
            _table_head('Name', 'Address', 'Phone', 'Status', 'Actions')
            with ui.element('tbody'):
                for location in rows:
                    with ui.element('tr').mark(f'location-{location.id}'):
                        _cell(location.name, muted=not location.is_active)
                        _cell(location.address, muted=not location.is_active)
                        _cell(location.phone, muted=not location.is_active)
                        _cell('Active' if location.is_active else 'Inactive', muted=not location.is_active)
                        with ui.element('td'), ui.row().classes('gap-1 no-wrap'):
                            ui.button('Edit', on_click=lambda loc=location: edit_location(loc)).props(
                                'flat dense no-caps'
                            ).mark(f'edit-location-{location.id}')
                            label = 'Deactivate' if location.is_active else 'Reactivate'
                            ui.button(
                                label,
                                on_click=lambda loc=location, problem=problem: toggle_location(loc, problem),
                            ).props('flat dense no-caps').mark(f'{label.lower()}-location-{location.id}')

    async def edit_location(location: Location) -> None:
        if await form_dialog(
            'Edit location',
            lambda: location_fields(location),
            lambda data: locations.update_location(location.id, data, viewer.actor),
        ):
            location_table.refresh()

    async def add_location() -> None:
        if await form_dialog('New location', location_fields, lambda data: locations.add_location(data, viewer.actor)):
            location_table.refresh()

    async def toggle_location(location: Location, problem: ui.label) -> None:
        if await attempt(
            problem, lambda: locations.set_location_active(location.id, not location.is_active, viewer.actor)
        ):
            location_table.refresh()

    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        with ui.row().classes('w-full items-center justify-between'):
            ui.label('Locations').classes('text-h6').props('role=heading aria-level=2')
            ui.button('Add a location', icon='add', on_click=add_location).props('outline no-caps').mark('add-location')
        await location_table()

    @ui.refreshable
    async def provider_table() -> None:
        rows = await providers.list_providers()
        if not rows:
            ui.label('No providers yet.').classes('text-grey-7')
            return
        problem = problem_label()
        with ui.element('q-markup-table').props('flat bordered separator=horizontal').classes('w-full'):
            _table_head('Name', 'License', 'NPI', 'Signs as', 'Status', 'Actions')
            with ui.element('tbody'):
                for provider in rows:
                    muted = not provider.is_active
                    account = provider.staff_account
                    with ui.element('tr').mark(f'provider-{provider.id}'):
                        _cell(provider.display_name, muted=muted)
                        _cell(f'{provider.licence_number} ({provider.licence_state})', muted=muted)
                        _cell(provider.npi, muted=muted)
                        _cell(account.name if account else '', muted=muted)
                        _cell('Active' if provider.is_active else 'Inactive', muted=muted)
                        with ui.element('td'), ui.row().classes('gap-1 no-wrap'):
                            ui.button('Edit', on_click=lambda pr=provider: edit_provider(pr)).props(
                                'flat dense no-caps'
                            ).mark(f'edit-provider-{provider.id}')
                            label = 'Deactivate' if provider.is_active else 'Reactivate'
                            ui.button(
                                label, on_click=lambda pr=provider, problem=problem: toggle_provider(pr, problem)
                            ).props('flat dense no-caps').mark(f'{label.lower()}-provider-{provider.id}')
        ui.label('Link a provider to the staff account that signs their prescriptions on the Team page.').classes(
            'text-caption text-grey-8'
        )

    async def edit_provider(provider: Provider) -> None:
        if await form_dialog(
            'Edit provider',
            lambda: provider_fields(provider),
            lambda data: providers.update_provider(provider.id, data, viewer.actor),
        ):
            provider_table.refresh()

    async def add_provider() -> None:
        if await form_dialog('New provider', provider_fields, lambda data: providers.add_provider(data, viewer.actor)):
            provider_table.refresh()

    async def toggle_provider(provider: Provider, problem: ui.label) -> None:
        if await attempt(
            problem, lambda: providers.set_provider_active(provider.id, not provider.is_active, viewer.actor)
        ):
            provider_table.refresh()

    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        with ui.row().classes('w-full items-center justify-between'):
            ui.label('Providers').classes('text-h6').props('role=heading aria-level=2')
            ui.button('Add a provider', icon='add', on_click=add_provider).props('outline no-caps').mark('add-provider')
        await provider_table()
