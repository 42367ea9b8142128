"""Rendering an entry page: the template, the practice's name and phone, the CSRF token, the stylesheet."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pages import csrf
from pages.entry.stylesheet import STYLESHEET_URL
from services import patient_portal
from services.phones import dial_string, display_phone

templates = Jinja2Templates(directory=Path(__file__).parent / 'templates')
# The practice's name and phone as last read: the error page shows them without asking the database, which
# may be what failed (one practice per installation, so this is the one to call).
_last_contact: dict[str, str] = {}


async def page(
    request: Request, template: str, *, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    """Render `template` with the frame's context: practice (name, phone, tel: number), token, stylesheet."""
    practice = await patient_portal.practice_contact()
    phone = display_phone(practice.phone) if practice is not None and practice.phone else ''
    context.setdefault('signed_in', False)
    context.setdefault('tree', 'patient')
    contact = {
        'practice_name': practice.name if practice is not None else '',
        'phone': phone,
        'dial': dial_string(practice.phone) if phone else '',
    }
    _last_contact.update(contact)
    return templates.TemplateResponse(
        request,
        template,
        {
            **contact,
            'practice_address': (practice.address or '') if practice is not None else '',
            'csrf_field': csrf.FIELD,
            'csrf_token': csrf.token(request),
            'stylesheet': STYLESHEET_URL,
            **context,
        },
        status_code=status_code,
        headers=headers,
    )


def error_page(
    request: Request, *, status_code: int, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    """`error.html` without a database query: the practice as last seen, signed out, no form (so no CSRF)."""
    return templates.TemplateResponse(
        request,
        'error.html',
        {
            'practice_name': '',
            'phone': '',
            'dial': '',
            **_last_contact,
            'signed_in': False,
            'stylesheet': STYLESHEET_URL,
            **context,
        },
        status_code=status_code,
        headers=headers,
    )
