"""The staff frame: header with navigation and the signed-in staff member, then the page content."""

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from models.staff import StaffUser
from pages.theme import apply_theme


@contextmanager
def frame(title: str, staff: StaffUser | None = None) -> Iterator[None]:
    ui.page_title(f'{title} · Staff console')
    apply_theme()
    with ui.header().classes('bg-blue-grey-9 text-white items-center justify-between q-px-md'):
        with ui.row().classes('items-center gap-4'):
            ui.link('Staff console', '/staff').classes('text-white text-h6 no-underline')
            if staff:
                ui.link('Patients', '/staff').classes('text-white')
                ui.link('Email upkeep', '/staff/email-upkeep').classes('text-white')
            if staff and staff.role == 'admin':
                ui.link('Practice settings', '/staff/settings').classes('text-white')
                ui.link('Team', '/staff/team').classes('text-white')
        if staff:
            with ui.row().classes('items-center gap-2'):
                ui.label(f'{staff.name} ({staff.role})')
                ui.link('Sign out', '/staff/logout').classes('text-white')
    with ui.column().classes('w-full max-w-6xl mx-auto q-pa-md gap-4'):
        yield
