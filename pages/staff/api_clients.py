"""API clients (`/staff/api-clients`, admin): the backend systems allowed to call the FHIR API.

Creating a client shows its bearer token once (only its hash is kept); revoking ends it at once.
"""

from nicegui import ui

from pages.access import StaffViewer
from pages.dialog import titled_dialog
from pages.staff.page import staff_page
from pages.staff.practice_forms import attempt, problem_label
from services import api_clients
from services.appointments import format_day

SCOPE_OPTIONS = [
    'system/*.read',
    'system/*.write',
    *(f'system/{kind}.{mode}' for kind in api_clients.RESOURCE_TYPES for mode in ('read', 'write')),
]


@staff_page('/api-clients', title='API clients', role='admin')
async def api_clients_page(viewer: StaffViewer) -> None:
    ui.label('API clients').classes('text-h5').props('role=heading aria-level=1')
    ui.label(
        'Backend systems (your EHR or integration engine) that read and write records through the FHIR R4 API '
        'at /fhir/R4. Each gets its own token and only the scopes you grant; every call is in the audit trail.'
    ).classes('text-grey-8')
    time_zone = viewer.practice.time_zone if viewer.practice else 'UTC'

    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        ui.label('Add an API client').classes('text-h6').props('role=heading aria-level=2')
        with ui.row().classes('w-full items-start gap-3'):
            name = ui.input('Name (the system that will use it)').props('outlined dense').classes('col-grow')
            name.mark('client-name')
            scopes = (
                ui.select(SCOPE_OPTIONS, multiple=True, value=['system/*.read'], label='Scopes')
                .props('outlined dense use-chips')
                .classes('col-grow')
                .mark('client-scopes')
            )
        problem = problem_label()

        async def create() -> None:
            created: list[api_clients.NewClient] = []

            async def run() -> None:
                created.append(await api_clients.create_client(name.value or '', scopes.value or [], viewer.actor))

            if await attempt(problem, run):
                name.value = ''
                show_token(created[0])
                clients.refresh()

        ui.button('Create client', icon='key', on_click=create).mark('create-client')

    def show_token(new: api_clients.NewClient) -> None:
        with titled_dialog(f'Token for {new.client.name}') as dialog:
            ui.label(
                'Copy this token into the other system now. It is shown only this once: the portal keeps only '
                'a fingerprint of it. If it is lost, revoke this client and create a new one.'
            )
            ui.input('Bearer token', value=new.token).props('outlined dense readonly').classes('w-full').mark(
                'client-token'
            )
            ui.button('Done', on_click=dialog.close)
        dialog.open()

    @ui.refreshable
    async def clients() -> None:
        rows = await api_clients.list_clients()
        if not rows:
            ui.label('No API clients yet.').classes('text-grey-8')
            return
        with ui.element('q-markup-table').props('flat bordered separator=horizontal').classes('w-full'):
            with ui.element('thead'), ui.element('tr'):
                for heading in ('Name', 'Scopes', 'Created', 'Last used', 'Status', ''):
                    with ui.element('th').classes('text-left'):
                        ui.label(heading)
            with ui.element('tbody'):
                for client in rows:
                    with ui.element('tr'):
                        with ui.element('td'):
                            ui.label(client.name)
                        with ui.element('td'):
                            ui.label(', '.join(client.scope_list))
                        with ui.element('td'):
                            ui.label(format_day(client.created_at, time_zone))
                        with ui.element('td'):
                            ui.label(format_day(client.last_used_at, time_zone) if client.last_used_at else 'never')
                        with ui.element('td'):
                            ui.label('Active' if client.is_active else 'Revoked')
                        with ui.element('td'):
                            if client.is_active:
                                ui.button('Revoke', on_click=lambda c=client: confirm_revoke(c.id, c.name)).props(
                                    'flat color=negative'
                                ).mark(f'revoke-{client.id}')

    def confirm_revoke(client_id: int, client_name: str) -> None:
        with titled_dialog(f'Revoke {client_name}?') as dialog:
            ui.label('Its token stops working at once. The other system needs a new client and token.')

            async def revoke() -> None:
                await api_clients.revoke_client(client_id, viewer.actor)
                dialog.close()
                ui.notify(f'{client_name} revoked', type='positive')
                clients.refresh()

            with ui.row():
                ui.button('Revoke', on_click=revoke).props('color=negative').mark('confirm-revoke')
                ui.button('Keep', on_click=dialog.close).props('flat')
        dialog.open()

    with ui.card().classes('w-full q-pa-md').props('flat bordered'):
        ui.label('Clients').classes('text-h6').props('role=heading aria-level=2')
        await clients()
