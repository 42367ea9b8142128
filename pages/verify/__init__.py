"""`/verify`: anyone holding a prescription's code sees that Rx as issued and its status, nothing else.

A plain server-rendered page (FastAPI route, Jinja2 template, one small stylesheet, no script): it works
on an optician's old desktop, on a phone with a weak signal and with JavaScript off, and an anonymous
visitor holds no NiceGUI client. The QR opens `GET /verify?code=...`; a typed code is POSTed, so it stays
out of the address bar and the access log. No CSRF token: the form changes nothing for anyone (it only
looks up and writes the audit row of the look-up), and there is no session to ride on.

A look-up is not a contact-lens verification request (16 CFR 315.5) and answers none: the page says so.
"""

from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from pages.patient import blocks
from services import rx_verification
from services.prescriptions import long_date

HERE = Path(__file__).parent
router = APIRouter()
templates = Jinja2Templates(directory=HERE / 'templates')
STATUS_CLASS = {
    rx_verification.CURRENT: 'current',
    rx_verification.EXPIRED: 'stopped',
    rx_verification.REPLACED: 'stopped',
    rx_verification.VOID: 'stopped',
}


def _client(request: Request) -> str:
    return request.client.host if request.client else ''


async def _answer(request: Request, typed: str) -> HTMLResponse:
    context: dict[str, object] = {'typed': typed[:64], 'found': None, 'problem': ''}
    status_code = 200
    if typed.strip():
        try:
            found = await rx_verification.look_up(typed[:64], _client(request))
        except rx_verification.TooManyLookups as error:
            context['problem'], status_code = str(error), 429
        else:
            if found is None:
                context['problem'], status_code = rx_verification.NOT_SHARED, 404
            else:
                document = found.document
                context.update(
                    found=found,
                    document=document,
                    status_class=STATUS_CLASS[found.status],
                    table=Markup(blocks.rx_table(document.eyes, contact_lens=document.is_contact_lens)),  # escaped
                    signed=document.signature,
                    issued=long_date(document.prescription.issue_date),
                )
    return templates.TemplateResponse(request, 'verify.html', context, status_code=status_code)


@router.get('/verify', response_class=HTMLResponse)
async def verify_page(request: Request, code: str = '') -> HTMLResponse:
    return await _answer(request, code)


@router.post('/verify', response_class=HTMLResponse)
async def verify_typed(request: Request, code: str = Form('')) -> HTMLResponse:
    return await _answer(request, code)


@router.get('/verify/verify.css', response_model=None)
async def stylesheet() -> Response:
    return FileResponse(HERE / 'verify.css', media_type='text/css')
