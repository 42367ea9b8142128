"""The staff frame: header with navigation and the signed-in staff member, then the page content."""

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from models.staff import StaffUser
from pages.logout_form import logout_form
from pages.theme import apply_theme
from services import appointment_requests, events, verification_requests


def requests_link(count: int) -> None:
    """'Requests' with the number of open appointment requests, kept current by every patient's
    appointment events (a request sent, withdrawn or handled anywhere)."""
    with ui.link(target='/staff/requests').classes('text-white row items-center gap-1 no-wrap'):
        ui.label('Requests')
        badge = ui.badge(str(count), color='deep-orange-10').props('rounded').mark('open-requests')
        spoken = ui.label('open').classes('sr-only')  # read after the number; on screen the badge says it
    badge.set_visibility(count > 0)
    spoken.set_visibility(count > 0)

    async def on_change(event: events.Event) -> None:
        if event.topic != events.APPOINTMENTS:
            return
        fresh = await appointment_requests.open_count()
        badge.text = str(fresh)
        badge.set_visibility(fresh > 0)
        spoken.set_visibility(fresh > 0)

    unsubscribe = events.subscribe(events.ANY_PATIENT, on_change)
    ui.context.client.on_delete(unsubscribe)


def verifications_link(count: int) -> None:
    """'Verifications' with the number of sellers' requests still to answer before their deadline."""
    with ui.link(target='/staff/verifications').classes('text-white row items-center gap-1 no-wrap'):
        ui.label('Verifications')
        badge = ui.badge(str(count), color='deep-orange-10').props('rounded').mark('open-verifications')
        spoken = ui.label('to answer').classes('sr-only')
    badge.set_visibility(count > 0)
    spoken.set_visibility(count > 0)

    async def on_change(event: events.Event) -> None:
        if event.topic != events.VERIFICATIONS:
            return
        fresh = await verification_requests.open_count()
        badge.text = str(fresh)
        badge.set_visibility(fresh > 0)
        spoken.set_visibility(fresh > 0)

    unsubscribe = events.subscribe(events.ANY_PATIENT, on_change)
    ui.context.client.on_delete(unsubscribe)


@contextmanager
def frame(
    title: str,
    staff: StaffUser | None = None,
    open_requests: int | None = None,
    open_verifications: int | None = None,
) -> Iterator[None]:
    ui.page_title(f'{title} · Staff console')
    apply_theme()
    with ui.header().classes('bg-blue-grey-9 text-white items-center justify-between q-px-md'):
        with ui.row().classes('items-center gap-4'):
            ui.link('Staff console', '/staff').classes('text-white text-h6 no-underline')
            if staff:
                ui.link('Patients', '/staff').classes('text-white')
                ui.link('Schedule', '/staff/schedule').classes('text-white')
                if open_requests is not None:
                    requests_link(open_requests)
                if open_verifications is not None:
                    verifications_link(open_verifications)
                ui.link('Email upkeep', '/staff/email-upkeep').classes('text-white')
            if staff and staff.role == 'admin':
                ui.link('Practice settings', '/staff/settings').classes('text-white')
                ui.link('Team', '/staff/team').classes('text-white')
                ui.link('Audit', '/staff/audit').classes('text-white')
                ui.link('Import', '/staff/import').classes('text-white')
                ui.link('API clients', '/staff/api-clients').classes('text-white')
        if staff:
            with ui.row().classes('items-center gap-2'):
                ui.label(f'{staff.name} ({staff.role})')
                ui.link('Two-step sign-in', '/staff/two-factor').classes('text-white')
                logout_form('/staff/logout', 'Sign out', dense=True)
    with ui.column().classes('w-full max-w-6xl mx-auto q-pa-md gap-4'):
        yield
