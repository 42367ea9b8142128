"""The per-eye values of a prescription, laid out to fit a 320 px phone: one row per value, OD and OS side by side."""

from html import escape

from nicegui import ui

from services.prescriptions import EyeRow

TABLE_CSS = """
.rx-table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
.rx-table th, .rx-table td { padding: 6px 8px; border-bottom: 1px solid #e0e0e0; text-align: right; }
.rx-table th[scope=row] { text-align: left; font-weight: 500; color: #424242; }
.rx-table thead th { font-weight: 600; color: #212121; }
.rx-table td { font-size: 1rem; color: #212121; }
"""

SPECTACLE_ROWS = (('Sphere', 'sphere'), ('Cylinder', 'cylinder'), ('Axis', 'axis'), ('Add', 'add'), ('Prism', 'prism'))
CONTACT_ROWS = (
    ('Sphere', 'sphere'),
    ('Cylinder', 'cylinder'),
    ('Axis', 'axis'),
    ('Add', 'add'),
    ('Base curve', 'base_curve'),
    ('Diameter', 'diameter'),
    ('Manufacturer', 'manufacturer'),
    ('Brand', 'brand'),
)
EYE_HEADINGS = {'OD': 'OD <span class="text-caption">right</span>', 'OS': 'OS <span class="text-caption">left</span>'}


def rx_table(eyes: list[EyeRow], *, contact_lens: bool) -> None:
    """An HTML table (light: one element, not dozens); every value is escaped."""
    ui.add_css(TABLE_CSS)
    rows = CONTACT_ROWS if contact_lens else SPECTACLE_ROWS
    head = ''.join(f'<th scope="col">{EYE_HEADINGS.get(e.eye, escape(e.eye))}</th>' for e in eyes)
    body = ''.join(
        f'<tr><th scope="row">{label}</th>'
        + ''.join(f'<td>{escape(getattr(e, field)) or "&mdash;"}</td>' for e in eyes)
        + '</tr>'
        for label, field in rows
    )
    ui.html(
        f'<table class="rx-table"><thead><tr><th scope="col"><span class="sr-only">Value</span></th>{head}</tr>'
        f'</thead><tbody>{body}</tbody></table>',
        sanitize=False,
    ).classes('w-full')
