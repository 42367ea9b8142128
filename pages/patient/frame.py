"""The patient frame: header with the practice name, tab navigation, footer with help and phone."""

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

TABS = (
    ('Prescriptions', '/prescriptions', 'visibility'),
    ('Appointments', '/appointments', 'event'),
    ('Billing', '/billing', 'receipt_long'),
)


@contextmanager
def frame(title: str, *, signed_in: bool = True, active: str = '') -> Iterator[None]:
    ui.page_title(f'{title} · Patient Portal')
    ui.query('body').classes('bg-grey-1')
    with ui.header().classes('bg-primary text-white items-center justify-between q-px-md q-py-sm'):
        ui.link('Patient Portal', '/' if signed_in else '/login').classes(
            'text-white text-subtitle1 text-weight-bold no-underline'
        )
        if signed_in:
            ui.link('Log out', '/logout').classes('text-white q-pa-sm').style('min-height: 44px; line-height: 28px')
    with ui.column().classes('w-full max-w-2xl mx-auto q-pa-md gap-4').props('role=main'):
        if signed_in:
            with ui.row().classes('w-full no-wrap gap-1').props('role=navigation aria-label="Portal sections"'):
                for label, href, icon in TABS:
                    selected = label == active
                    with (
                        ui.link(target=href)
                        .classes(
                            'col column items-center q-py-sm rounded-borders no-underline '
                            + ('bg-primary text-white' if selected else 'text-primary bg-white')
                        )
                        .style('min-height: 56px')
                        .props(f'aria-current={"page" if selected else "false"}')
                    ):
                        ui.icon(icon).props('aria-hidden=true')
                        ui.label(label).classes('text-caption')
        yield
    with ui.footer().classes('bg-white text-grey-9 q-pa-sm justify-center'):
        ui.link('Help', '/help').classes('q-pa-sm').style('min-height: 44px')
