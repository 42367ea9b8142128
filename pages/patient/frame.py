"""The patient frame: header with the practice name, tab navigation, footer with help and phone."""

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from models.patient import Patient
from models.practice import Practice
from pages.logout_form import logout_form
from pages.patient import icons
from pages.theme import apply_theme
from services.phones import dial_string

TABS = (
    ('Prescriptions', '/prescriptions', icons.VISIBILITY),
    ('Appointments', '/appointments', icons.EVENT),
    ('Billing', '/billing', icons.RECEIPT),
)

# Printing a prescription should give the prescription, not the portal around it.
PRINT_CSS = """
@media print {
  .q-header, .q-footer, .no-print { display: none !important; }
  .q-page-container { padding: 0 !important; }
  body, .q-page { background: white !important; }
  .print-sheet { box-shadow: none !important; border: none !important; }
}
"""


@contextmanager
def frame(
    title: str,
    *,
    signed_in: bool = True,
    active: str = '',
    patient: Patient | None = None,
    practice: Practice | None = None,
) -> Iterator[None]:
    """Header, tabs and footer; `patient` (with its practice fetched) adds the greeting and the practice's phone."""
    practice = practice or (patient.practice if patient is not None else None)
    ui.page_title(f'{title} · {practice.name} · Patient Portal' if practice else f'{title} · Patient Portal')
    ui.query('body').classes('bg-grey-1')
    ui.add_css(PRINT_CSS)
    apply_theme()
    with ui.header().classes('bg-primary text-white items-center justify-between q-px-md q-py-sm no-wrap'):
        ui.link(practice.name if practice else 'Patient Portal', '/' if signed_in else '/login').classes(
            'text-white text-subtitle1 text-weight-bold no-underline ellipsis'
        ).style('min-width: 0; min-height: 44px; line-height: 44px')
        if signed_in:
            logout_form('/logout', 'Log out')
    with ui.column().classes('w-full max-w-2xl mx-auto q-pa-md gap-4'):
        if signed_in:
            if patient is not None:
                ui.label(f'Hello, {patient.first_name}').classes('text-subtitle1 text-grey-9 no-print')
            nav = ui.row().classes('w-full no-wrap gap-1 no-print')
            with nav.props('role=navigation aria-label="Portal sections"'):
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
    footer = ui.footer(fixed=False).classes('bg-white text-grey-9 q-px-sm q-py-none justify-center items-center wrap')
    with footer.classes('gap-x-4'):
        ui.link('Help', '/help').classes('q-pa-sm').style('min-height: 44px; line-height: 28px')
        if practice is not None and practice.phone:
            ui.link(f'Call {practice.phone}', f'tel:{dial_string(practice.phone)}').classes('q-pa-sm').style(
                'min-height: 44px; line-height: 28px'
            )
