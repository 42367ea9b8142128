"""The baseline for page weight and memory: bare NiceGUI pages with the widgets of two patient pages.

`/login` has the login page's widgets (header link, heading and text labels, email input, error label,
button, help link, footer link) and `/prescriptions` the dashboard's (header link, three icon tabs, a card
per prescription with heading, badge, labels, an HTML table and two icon buttons, footer links), all with
NiceGUI's defaults: what the same screens cost before the portal adds or removes anything.
`/appointments` and `/billing` are the other two tabs as the benchmarks' seeded patient sees them (one
upcoming visit and the request form; one open invoice with its lines), for `bench.page_cost`.

    BARE_PORT=8090 python bench/bare_pages.py
"""

import os

from nicegui import ui

TABLE = (
    '<table><thead><tr><th></th><th>OD</th><th>OS</th></tr></thead><tbody>'
    + ''.join(f'<tr><th>{row}</th><td>-2.25</td><td>-2.00</td></tr>' for row in ('Sphere', 'Cylinder', 'Axis', 'Add'))
    + '</tbody></table>'
)


def _header_and_tabs() -> None:
    with ui.header():
        ui.link('Harborview Eye Care', '/').classes('text-white')
        ui.link('Log out', '/logout').classes('text-white')
    ui.label('Hello, Avery')
    with ui.row():
        for label, icon in (('Prescriptions', 'visibility'), ('Appointments', 'event'), ('Billing', 'receipt_long')):
            with ui.link(target='/'):
                ui.icon(icon)
                ui.label(label)


def _footer() -> None:
    with ui.footer():
        ui.link('Help', '/help').classes('text-white')
        ui.link('Call (555) 010-2000', 'tel:5550102000').classes('text-white')


@ui.page('/login')
def login() -> None:
    with ui.header():
        ui.link('Patient Portal', '/login').classes('text-white')
    ui.label('Log in to your patient portal').classes('text-h5')
    ui.label('Enter the email address your eye-care practice has on file. We will email you a link to log in.')
    ui.input('Email address').classes('w-full')
    ui.label().classes('text-negative')
    ui.button('Email me a login link').classes('w-full')
    ui.link('How does logging in work?', '/help')
    _footer()


@ui.page('/prescriptions')
def prescriptions() -> None:
    _header_and_tabs()
    ui.label('Your prescriptions').classes('text-h5')
    for kind in ('Glasses', 'Contact lens'):
        with ui.card():
            ui.label(f'{kind} prescription').classes('text-h6')
            ui.badge('Current')
            ui.label('Issued October 26, 2026')
            ui.html(TABLE, sanitize=False)
            with ui.row():
                ui.button('View / print', icon='print')
                ui.button('Download PDF', icon='download')
    _footer()


@ui.page('/appointments')
def appointments() -> None:
    _header_and_tabs()
    ui.label('Upcoming appointments').classes('text-h5')
    with ui.card():
        ui.label('Friday, December 7, 2026').classes('text-subtitle1')
        for line in ('10:00 AM · Eye exam', 'Contact lens fitting', 'With Morgan Ellery', 'Main office'):
            ui.label(line)
        with ui.row():
            ui.button('Add to calendar', icon='event')
            ui.button('Map', icon='place')
    ui.label('Request an appointment').classes('text-h6')
    ui.html('<div><strong>Sudden vision loss ... need care now.</strong> Please call us now.</div>', sanitize=False)
    ui.label('Tell us what the visit is for and when suits you.')
    with ui.card():
        ui.select({'eye_exam': 'Eye exam', 'contact_lens': 'Contact lens fitting'}, value='eye_exam')
        ui.textarea('Reason for the visit')
        ui.select(['Monday', 'Tuesday'], multiple=True, label='Preferred days')
        ui.select(['Morning', 'Afternoon'], multiple=True, label='Preferred times')
        ui.input('Other timing wishes')
        ui.label().classes('text-negative')
        ui.button('Send request', icon='send')
    ui.label('Need to change or cancel an appointment? Call (555) 010-2000.')
    _footer()


@ui.page('/billing')
def billing() -> None:
    _header_and_tabs()
    ui.label('Billing').classes('text-h5')
    with ui.card():
        ui.label('Balance after credits')
        ui.label('$135.00').classes('text-h4')
        ui.label('Open invoices are listed below, with a way to pay each one.')
    ui.label('Open invoices').classes('text-h6')
    with ui.card():
        with ui.row():
            ui.label('Invoice INV-1').classes('text-subtitle1')
            ui.badge('Open')
        ui.label('Issued October 26, 2026')
        for label, amount in (('10/26/2026 · Comprehensive eye exam', '$185.00'), ('Total', '$185.00')):
            with ui.row():
                ui.label(label)
                ui.label(amount)
        for label, amount in (('Your share', '$185.00'), ('Payment October 26, 2026 (Card)', '-$50.00')):
            with ui.row():
                ui.label(label)
                ui.label(amount)
        with ui.row():
            ui.label('Balance')
            ui.label('$135.00')
        with ui.row():
            ui.button('Call (555) 010-2000', icon='phone')
            ui.button('Statement (PDF)', icon='download')
    _footer()


if __name__ in {'__main__', '__mp_main__'}:
    ui.run(
        host='127.0.0.1',
        port=int(os.environ.get('BARE_PORT', '8090')),
        title='Patient Portal',
        reload=False,
        show=False,
        uvicorn_logging_level='warning',
        tailwind=os.environ.get('BARE_TAILWIND', '1') != '0',  # '0': what dropping the Tailwind runtime would save
    )
