"""A dialog that says what it is: its title is shown as a heading and is the dialog's accessible name.

Quasar's dialog has no name of its own (axe: aria-dialog-name), so a screen reader would announce only
"dialog" when a confirmation opens; every dialog of both trees is built here instead.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui


@contextmanager
def titled_dialog(title: str, *, style: str = 'max-width: 560px', classes: str = 'q-pa-md') -> Iterator[ui.dialog]:
    with ui.dialog() as dialog, ui.card().classes(classes).style(style):
        dialog.props['aria-label'] = title
        ui.label(title).classes('text-h6').props('role=heading aria-level=2')
        yield dialog
