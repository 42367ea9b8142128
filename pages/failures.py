"""What a person sees when a page fails on our side: a sentence they understand, never a traceback.

Two causes, two answers. The database out of reach (a network cut, PostgreSQL restarting) is temporary:
503 and "try again in a minute"; the pool reconnects by itself once it is back. Anything else is a bug:
500 and "something went wrong". The same words reach every kind of page:

- plain routes (entry pages, `/verify`, downloads): `plain_page`, an entry page in the tree's look,
  rendered without touching the database (`portal.errors` catches the exception and logs it);
- NiceGUI pages that fail while being built: `nicegui_page`, registered with `app.on_page_exception`;
- an event handler of an open NiceGUI page that fails: `notify`, a notification on that page, so a click
  that did nothing never looks like it worked.
"""

from fastapi import Request
from fastapi.responses import HTMLResponse
from nicegui import ui

from portal.db import is_unreachable

UNAVAILABLE = "The portal can't reach its records right now. Please try again in a minute."
FAILED = 'Something went wrong on our side. Please try again; if it keeps happening, call the practice.'


def sentence(error: BaseException) -> str:
    return UNAVAILABLE if is_unreachable(error) else FAILED


def status_code(error: BaseException) -> int:
    return 503 if is_unreachable(error) else 500


def _heading(error: BaseException) -> str:
    return 'Records unavailable' if is_unreachable(error) else 'Something went wrong'


def _is_staff(path: str) -> bool:
    return path == '/staff' or path.startswith('/staff/')


def plain_page(request: Request, error: BaseException) -> HTMLResponse:
    """The error as an entry page of the request's tree, with a way to try again; no database needed."""
    from pages.entry.render import error_page  # the entry pages import the page guard, which imports this

    staff = _is_staff(request.url.path)
    retry = str(request.url.path) + (f'?{request.url.query}' if request.url.query else '')
    if request.method not in ('GET', 'HEAD'):
        retry = '/staff' if staff else '/'  # a form's address answers POST only: start again from the tree's home
    return error_page(
        request,
        title=_heading(error),
        tree='staff' if staff else 'patient',
        message=sentence(error),
        retry_url=retry,
        status_code=status_code(error),
        headers={'Retry-After': '60'} if is_unreachable(error) else None,
    )


def nicegui_page(error: Exception) -> None:
    """The content NiceGUI serves (status 500) when a page fails while being built."""
    from pages.patient.frame import frame as patient_frame  # the frames import pages that import this module
    from pages.staff.frame import frame as staff_frame

    request = ui.context.client.request
    path = request.url.path if request is not None else ''
    retry = path + (f'?{request.url.query}' if request is not None and request.url.query else '')
    frame = staff_frame(_heading(error)) if _is_staff(path) else patient_frame(_heading(error), signed_in=False)
    with frame, ui.card().classes('w-full q-pa-md').props('flat bordered').mark('page-failure'):
        ui.label(_heading(error)).classes('text-h5').props('role=heading aria-level=1')
        ui.label(sentence(error))
        ui.link('Try again', retry or '/')


def notify(error: Exception) -> None:
    """An open page's handler failed: say so on the page (its work was not done, or not all of it)."""
    ui.notify(sentence(error), type='negative', multi_line=True)
