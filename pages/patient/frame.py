"""The patient frame: header with the practice name, tab navigation, footer with help and phone.

Drawn as a few NiceGUI elements holding plain HTML (header, navigation, footer): the frame has nothing
to react to, and a NiceGUI element per link, icon and label made the frame alone cost the server about as
much as a bare page's whole content (issue 11, `bench.page_cost`). Every value is escaped.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from html import escape

from nicegui import ui

from models.patient import Patient
from models.practice import Practice
from pages.logout_form import logout_form_html
from pages.patient import icons
from pages.theme import add_style, apply_theme
from services.phones import dial_string

TABS = (
    ('Prescriptions', '/prescriptions', icons.VISIBILITY),
    ('Appointments', '/appointments', icons.EVENT),
    ('Billing', '/billing', icons.RECEIPT),
)

# The page's background, and printing a prescription should give the prescription, not the portal around it.
FRAME_CSS = """
body { background: #fafafa;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.pp-logout { background: none; border: 0; color: white; cursor: pointer; font: inherit; font-size: 1rem;
  font-weight: 500; text-decoration: underline; white-space: nowrap; min-height: 44px; padding: 4px 8px;
  border-radius: 3px; }
.pp-logout:hover { background: rgba(255,255,255,.15); }
.pp-logout:focus-visible { outline: 2px solid white; outline-offset: 2px; }
.pp-tabs > a { min-height: 56px; }
.pp-foot > a { min-height: 44px; line-height: 28px; }
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
    add_style(FRAME_CSS)
    apply_theme()
    with ui.header().classes('bg-primary text-white items-center justify-between q-px-md q-py-sm no-wrap'):
        ui.html(_header(practice, signed_in), sanitize=False).classes('w-full row items-center justify-between no-wrap')
    with ui.column().classes('w-full max-w-2xl mx-auto q-pa-md gap-4'):
        if signed_in:
            ui.html(_greeting_and_tabs(patient, active), sanitize=False).classes('w-full column gap-4 no-print')
        yield
    footer = ui.footer(fixed=False).classes('bg-white text-grey-9 q-px-sm q-py-none justify-center items-center wrap')
    with footer:
        ui.html(_footer(practice), sanitize=False).classes('pp-foot row wrap justify-center items-center gap-x-4')


def _header(practice: Practice | None, signed_in: bool) -> str:
    name = escape(practice.name if practice else 'Patient Portal', quote=False)
    home = '/' if signed_in else '/login'
    return (
        f'<a href="{home}" class="text-white text-subtitle1 text-weight-bold no-underline ellipsis" '
        f'style="min-width: 0; min-height: 44px; line-height: 44px">{name}</a>'
        + (logout_form_html('/logout', 'Log out', button_class='pp-logout') if signed_in else '')
    )


def _greeting_and_tabs(patient: Patient | None, active: str) -> str:
    greeting = (
        f'<div class="text-subtitle1 text-grey-9">Hello, {escape(patient.first_name, quote=False)}</div>'
        if patient is not None
        else ''
    )
    links = ''.join(
        f'<a href="{href}" aria-current="{"page" if label == active else "false"}" '
        'class="col column items-center q-py-sm rounded-borders no-underline '
        f'{"bg-primary text-white" if label == active else "text-primary bg-white"}">'
        f'{icons.inline_svg(icon)}<div class="text-caption">{label}</div></a>'
        for label, href, icon in TABS
    )
    return f'{greeting}<nav class="pp-tabs row w-full no-wrap gap-1" aria-label="Portal sections">{links}</nav>'


def _footer(practice: Practice | None) -> str:
    links = '<a href="/help" class="q-pa-sm">Help</a>'
    if practice is not None and practice.phone:
        links += (
            f'<a href="tel:{escape(dial_string(practice.phone))}" class="q-pa-sm">'
            f'Call {escape(practice.phone, quote=False)}</a>'
        )
    return links
