"""The log-out control of both NiceGUI frames: a real form POST carrying the CSRF token (`pages.csrf`).

A GET no longer signs anyone out (another site could make a browser fetch it), so the header's control
is a small native form; it works even when the page's websocket has dropped.
"""

from html import escape

from nicegui import ui

from pages import csrf


def logout_form(action: str, label: str, *, dense: bool = False) -> None:
    """`dense` for the staff console's desktop header; the patient header keeps a 44 px tap target."""
    with ui.element('form').props(f'method=post action={action}').classes('q-ma-none'):
        ui.element('input').props(f'type=hidden name={csrf.FIELD} value={csrf.token()}')
        button = ui.button(label).props('type=submit flat no-caps color=white')
        button.style('white-space: nowrap; text-decoration: underline; font-size: 1rem')
        if dense:
            button.props('dense padding="none xs"')
        else:
            button.props('padding="xs sm"').style('min-height: 44px')


def logout_form_html(action: str, label: str, *, button_class: str) -> str:
    """The same form as plain HTML, for frames drawn as HTML blocks (`pages.patient.frame`)."""
    return (
        f'<form method="post" action="{escape(action)}" class="q-ma-none">'
        f'<input type="hidden" name="{csrf.FIELD}" value="{escape(csrf.token())}">'
        f'<button type="submit" class="{button_class}">{escape(label)}</button></form>'
    )
