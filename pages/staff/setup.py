"""First-time setup (`/staff/setup`, admin): the practice, a location and a provider, in three short steps.

An admin who signs in to an empty installation lands here. Everything entered here stays editable under
Practice settings; this page exists so a new practice gets to a working console without hunting.
"""

from nicegui import ui

from pages.access import StaffViewer
from pages.staff.page import staff_page
from pages.staff.practice_forms import (
    attempt,
    base_url_note,
    location_fields,
    practice_fields,
    problem_label,
    provider_fields,
)
from services import locations, practice_setup, providers
from services.setup_status import setup_status


@staff_page('/setup', title='Set up the practice', role='admin')
async def setup_page(viewer: StaffViewer) -> None:
    ui.label('Set up your practice').classes('text-h5').props('role=heading aria-level=1')
    ui.label(
        'Three short steps before patients can be added: the practice, one location and one provider. '
        'You can change all of it later under Practice settings.'
    ).classes('text-grey-8')

    @ui.refreshable
    async def status() -> None:
        current = await setup_status()
        if current.complete:
            with ui.card().classes('w-full q-pa-md bg-green-1').props('flat bordered role=status').mark('setup-done'):
                ui.label('Setup is complete.').classes('text-weight-medium')
                with ui.row().classes('items-center gap-4'):
                    ui.link('Go to patient search', '/staff')
                    ui.link('Add your team', '/staff/team')
        else:
            ui.label(current.sentence()).classes('text-weight-medium').props('role=status').mark('setup-status')

    @ui.refreshable
    async def location_list() -> None:
        for location in await locations.list_locations(active_only=True):
            ui.label(f'✓ {location.name}').classes('text-positive')

    @ui.refreshable
    async def provider_list() -> None:
        for provider in await providers.list_providers(active_only=True):
            ui.label(f'✓ {provider.display_name}').classes('text-positive')

    async def refresh() -> None:
        status.refresh()
        location_list.refresh()
        provider_list.refresh()

    await status()

    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        ui.label('1. The practice').classes('text-h6').props('role=heading aria-level=2')
        read_practice = practice_fields(await practice_setup.current_practice())
        base_url_note()
        practice_problem = problem_label()

        async def save_practice() -> None:
            if await attempt(
                practice_problem, lambda: practice_setup.save_practice(read_practice(), viewer.actor), 'Practice saved'
            ):
                await refresh()

        ui.button('Save the practice', on_click=save_practice).mark('save-practice')

    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        ui.label('2. A location').classes('text-h6').props('role=heading aria-level=2')
        ui.label('Where patients come for their visits. Add more later under Practice settings.').classes('text-grey-8')
        await location_list()
        with ui.column().classes('w-full gap-1') as location_form:
            read_location = location_fields()
        location_problem = problem_label()

        async def add_location() -> None:
            nonlocal read_location
            if await attempt(
                location_problem, lambda: locations.add_location(read_location(), viewer.actor), 'Location added'
            ):
                location_form.clear()
                with location_form:
                    read_location = location_fields()
                await refresh()

        ui.button('Add the location', on_click=add_location).mark('save-location')

    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        ui.label('3. A provider').classes('text-h6').props('role=heading aria-level=2')
        ui.label(
            'The optometrist or ophthalmologist whose name, credentials and license are printed on prescriptions.'
        ).classes('text-grey-8')
        await provider_list()
        with ui.column().classes('w-full gap-1') as provider_form:
            read_provider = provider_fields()
        provider_problem = problem_label()

        async def add_provider() -> None:
            nonlocal read_provider
            if await attempt(
                provider_problem, lambda: providers.add_provider(read_provider(), viewer.actor), 'Provider added'
            ):
                provider_form.clear()
                with provider_form:
                    read_provider = provider_fields()
                await refresh()

        ui.button('Add the provider', on_click=add_provider).mark('save-provider')
