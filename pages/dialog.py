"""A dialog that says what it is: its title is shown as a heading and is the dialog's accessible name.

Quasar's dialog has no name of its own (axe: aria-dialog-name), so a screen reader would announce only
"dialog" when a confirmation opens; every dialog of both trees is built here instead.
"""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from nicegui import ui

from services.errors import DomainError


@contextmanager
def titled_dialog(title: str, *, style: str = 'max-width: 560px', classes: str = 'q-pa-md') -> Iterator[ui.dialog]:
    with ui.dialog() as dialog, ui.card().classes(classes).style(style):
        dialog.props['aria-label'] = title
        ui.label(title).classes('text-h6').props('role=heading aria-level=2')
        yield dialog


async def ask_reason(
    container: ui.element,
    *,
    title: str,
    explanation: str,
    label: str,
    confirm: str,
    action: Callable[[str], Awaitable[object]],
    done: str,
    marks: tuple[str, str],
    keep: str = 'Cancel',
    max_length: int | None = None,
    multiline: bool = False,
    danger: bool = True,
    style: str = 'width: 480px; max-width: 95vw',
) -> bool:
    """Ask for the words an action needs (a reason to void or cancel, a reply to a patient) and run it.

    The service's refusal (`DomainError`) shows under the field and the dialog stays open with what was
    typed; `done` is announced once the action went through. True when it did.
    """
    field_mark, confirm_mark = marks
    with container, titled_dialog(title, style=style, classes='q-pa-md gap-2') as dialog:
        ui.label(explanation).classes('text-body2 text-grey-8')
        field = (ui.textarea(label).props('rows=4') if multiline else ui.input(label)).props('outlined')
        if max_length:
            field.props(f'maxlength={max_length}')
        field.classes('w-full').mark(field_mark)
        problem = ui.label().classes('text-negative').props('role=alert')

        async def submit() -> None:
            try:
                await action(field.value or '')
            except DomainError as error:
                problem.text = str(error)
                return
            dialog.submit(True)

        with ui.row().classes('w-full justify-end'):
            ui.button(keep, on_click=lambda: dialog.submit(False)).props('flat no-caps')
            ui.button(confirm, on_click=submit).props('no-caps' + (' color=negative' if danger else '')).mark(
                confirm_mark
            )
    dialog.open()
    went_through = bool(await dialog)
    dialog.delete()
    if went_through:
        ui.notify(done, type='positive')
    return went_through
