"""Light HTML for the long lists of the patient portal: one NiceGUI element per prescription or invoice.

A NiceGUI element costs about a millisecond to build; a card made of labels, rows and badges costs
dozens. A patient with a long history would push a page past NiceGUI's 3 s response timeout, so each
card is one `ui.html` built here, with every value from the database escaped.
"""

from collections.abc import Awaitable, Callable
from html import escape

from nicegui import ui
from nicegui.events import GenericEventArguments

from pages.patient import icons
from pages.theme import add_style
from services.prescriptions import EyeRow

CSS = """
.pp-card { background: white; border: 1px solid rgba(0,0,0,.12); border-radius: 4px; padding: 16px;
  display: flex; flex-direction: column; gap: 8px; width: 100%; }
.pp-card h2, .pp-card h3 { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.pp-head { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.pp-meta { display: flex; flex-direction: column; color: #424242; font-size: .875rem; line-height: 1.45; }
.pp-badge { display: inline-block; padding: 2px 8px; border-radius: 4px; color: white; font-size: .875rem;
  white-space: nowrap; }
.pp-badge.current, .pp-badge.paid { background: #1b7f3b; }
.pp-badge.expired { background: #424242; }
.pp-badge.open, .pp-badge.pending { background: #b54708; }
.pp-actions { display: flex; flex-wrap: wrap; gap: 8px; }
.pp-btn { flex: 1 1 8rem; display: inline-flex; align-items: center; justify-content: center; gap: 8px;
  min-height: 44px; padding: 0 16px; border: 1px solid currentColor; border-radius: 4px;
  color: var(--q-primary); text-decoration: none; font-weight: 500; }
.pp-btn:focus-visible { outline: 3px solid var(--q-primary); outline-offset: 2px; }
button.pp-btn { background: none; font: inherit; font-weight: 500; cursor: pointer; }
.pp-btn.flat { flex: 0 1 auto; border-color: transparent; }
.pp-btn:hover { background: rgba(0,0,0,.04); }
.pp-item { display: flex; flex-direction: column; gap: 8px; width: 100%; }
.pp-stack { display: flex; flex-direction: column; gap: 16px; width: 100%; }
.pp-stack > .pp-btn { width: 100%; }
.pp-money { display: flex; justify-content: space-between; gap: 12px; padding: 3px 0; font-size: .875rem; }
.pp-money span:first-child { min-width: 0; overflow-wrap: anywhere; }
.pp-money span:last-child { white-space: nowrap; font-variant-numeric: tabular-nums; }
.pp-money.strong { font-weight: 700; }
.pp-money.muted { color: #424242; }
.rx-table { width: 100%; border-collapse: collapse; table-layout: fixed; font-variant-numeric: tabular-nums; }
.rx-table thead td:first-child { width: 38%; }
.rx-table th, .rx-table td { padding: 6px 4px; border-bottom: 1px solid #e0e0e0; text-align: right;
  overflow-wrap: break-word; }
.rx-table th[scope=row] { text-align: left; font-weight: 500; color: #424242; }
.rx-table thead th { font-weight: 600; color: #212121; }
.rx-table td { font-size: 1rem; color: #212121; }
"""

SPECTACLE_ROWS = (('Sphere', 'sphere'), ('Cylinder', 'cylinder'), ('Axis', 'axis'), ('Add', 'add'), ('Prism', 'prism'))
CONTACT_ROWS = (
    ('Power', 'sphere'),
    ('Cylinder', 'cylinder'),
    ('Axis', 'axis'),
    ('Add', 'add'),
    ('Base curve', 'base_curve'),
    ('Diameter', 'diameter'),
)
EYE_HEADINGS = {'OD': 'OD <span class="text-caption">right</span>', 'OS': 'OS <span class="text-caption">left</span>'}


def use_css() -> None:
    """Once per page, before the blocks."""
    add_style(CSS)


def block(html: str) -> ui.html:
    return ui.html(html, sanitize=False).classes('w-full')


def rx_table(eyes: list[EyeRow], *, contact_lens: bool) -> str:
    """OD and OS side by side, one row per value: fits a 320 px phone where six columns would not."""
    rows = CONTACT_ROWS if contact_lens else SPECTACLE_ROWS
    if contact_lens and any(e.dominance for e in eyes):
        rows = (*rows, ('Dominant eye', 'dominant_eye'))
    head = ''.join(f'<th scope="col">{EYE_HEADINGS.get(e.eye, escape(e.eye))}</th>' for e in eyes)
    body = ''.join(
        f'<tr><th scope="row">{label}</th>'
        + ''.join(f'<td>{escape(getattr(e, field)) or "&mdash;"}</td>' for e in eyes)
        + '</tr>'
        for label, field in rows
    )
    table = f'<table class="rx-table"><thead><tr><td></td>{head}</tr></thead><tbody>{body}</tbody></table>'
    return table + (_lenses(eyes) if contact_lens else '')


def _lenses(eyes: list[EyeRow]) -> str:
    """Manufacturer and brand as sentences: long names broke mid-word in a narrow table column."""
    names = {e.eye: ' '.join(part for part in (e.manufacturer, e.brand) if part) for e in eyes}
    if len(set(names.values())) == 1:
        lines = [f'Lens (both eyes): {next(iter(names.values())) or "not specified"}']
    else:
        lines = [f'Lens {eye}: {name or "not specified"}' for eye, name in names.items()]
    return '<div class="pp-meta q-mt-sm">' + ''.join(f'<span>{escape(line)}</span>' for line in lines) + '</div>'


def heading(text: str, level: int, classes: str) -> str:
    """What `ui.label(text).classes(classes).props('role=heading aria-level=N')` draws."""
    return f'<div class="{classes}" role="heading" aria-level="{level}">{escape(text)}</div>'


def stack(*parts: str) -> str:
    """Several blocks as one element, spaced as the page's column spaces its elements."""
    return '<div class="pp-stack">' + ''.join(parts) + '</div>'


def badge(text: str, kind: str) -> str:
    return f'<span class="pp-badge {kind}">{escape(text)}</span>'


def link_button(text: str, href: str, icon: str, *, download: bool = False, new_tab: bool = False) -> str:
    """A real link styled as a button: works before the websocket connects, and long-press opens it elsewhere."""
    target = ' target="_blank" rel="noopener noreferrer"' if new_tab else ''
    return (
        f'<a class="pp-btn" href="{escape(href)}"{" download" if download else ""}{target}>'
        f'{icons.inline_svg(icon)}{escape(text)}</a>'
    )


# One listener per list: the button the click came from says what to do, and for which record.
ACTION_JS = (
    '(e) => { const b = e.target.closest("button[data-action]");'
    ' if (b) emit({action: b.dataset.action, id: Number(b.dataset.id)}); }'
)


def action_button(text: str, action: str, record_id: int, icon: str = '', *, flat: bool = False) -> str:
    """A button inside an HTML block; `on_actions` on the list around it says what it does."""
    return (
        f'<button type="button" class="pp-btn{" flat" if flat else ""}" data-action="{escape(action)}" '
        f'data-id="{record_id}">{icons.inline_svg(icon) if icon else ""}{escape(text)}</button>'
    )


def on_actions(container: ui.element, handler: Callable[[str, int], Awaitable[None] | None]) -> None:
    """The one click listener of a list of blocks with `action_button`s (a NiceGUI button costs about a
    quarter of a millisecond of every page load, a pair per record added up). Anything can be sent here:
    the handler looks the id up in what the page shows."""

    async def dispatch(event: GenericEventArguments) -> None:
        args = event.args if isinstance(event.args, dict) else {}
        action, record_id = args.get('action'), args.get('id')
        if isinstance(action, str) and isinstance(record_id, int):
            result = handler(action, record_id)
            if result is not None:
                await result

    container.on('click', dispatch, js_handler=ACTION_JS)


def money_row(label: str, amount: str, style: str = '') -> str:
    return f'<div class="pp-money {style}"><span>{escape(label)}</span><span>{escape(amount)}</span></div>'
