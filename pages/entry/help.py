"""The public help page: how logging in works, what the portal shows, and whom to call."""

from fastapi import Request
from fastapi.responses import Response

from pages.access import current_patient
from pages.entry import router
from pages.entry.render import page
from services import magic_link


@router.api_route('/help', methods=['GET', 'HEAD'], include_in_schema=False)
async def help_page(request: Request) -> Response:
    signed_in = await current_patient() is not None
    return await page(
        request, 'help.html', title='Help', signed_in=signed_in, minutes=magic_link.link_settings().valid_minutes
    )
