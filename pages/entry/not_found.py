"""Unknown addresses and missing records: a page in the portal's own look, with a way back, status 404.

Replaces NiceGUI's raw "HTTPException: 404" page for both trees. API-style endpoints (NiceGUI's own
resources, a JSON route raising 404) keep FastAPI's JSON answer.
"""

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from pages.access import current_patient
from pages.entry.render import page

MESSAGE = 'There is nothing at this address. The link may be old or mistyped.'


async def not_found_page(request: Request, message: str = MESSAGE) -> Response:
    """The 404 page of the tree `request` belongs to (staff console or patient portal)."""
    if request.url.path == '/staff' or request.url.path.startswith('/staff/'):
        return await page(
            request,
            'not_found.html',
            title='Not found',
            tree='staff',
            message=message,
            back_url='/staff',
            back_label='Back to the staff console',
            status_code=404,
        )
    return await page(
        request,
        'not_found.html',
        title='Not found',
        signed_in=await current_patient() is not None,
        message=message,
        back_url='/',
        back_label='Back to the portal',
        status_code=404,
    )


async def handle_404(request: Request, exception: Exception) -> Response:
    endpoint = request.scope.get('endpoint')
    is_api = endpoint is not None and not request.scope.get('nicegui_page_path')
    if request.url.path.startswith('/_nicegui') or (is_api and isinstance(exception, HTTPException)):
        return await http_exception_handler(request, exception)  # type: ignore[arg-type]
    return await not_found_page(request)
