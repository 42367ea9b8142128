"""`/verify`: anyone holding a prescription's code sees that Rx as issued and its status, nothing else.

An entry page like the login pages (`pages.entry`): a FastAPI route, a Jinja2 template on the entry
pages' frame and stylesheet, no script. It works on an optician's old desktop, on a phone with a weak
signal and with JavaScript off, and an anonymous visitor holds no NiceGUI client. The QR opens
`GET /verify?code=...`; a typed code is POSTed (with the entry pages' CSRF token), so it stays out of the
address bar and the access log.

A look-up is not a contact-lens verification request (16 CFR 315.5) and answers none: the page says so.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pages import csrf
from pages.entry import render
from pages.patient import blocks
from services import rx_verification

router = APIRouter()
STATUS_CLASS = {
    rx_verification.CURRENT: 'current',
    rx_verification.EXPIRED: 'stopped',
    rx_verification.REPLACED: 'stopped',
    rx_verification.VOID: 'stopped',
}
MAX_TYPED = 64
FORM_EXPIRED = 'This page had been open too long. Please type the code again and press Check.'


def _client(request: Request) -> str:
    return request.client.host if request.client else ''


async def _answer(request: Request, typed: str) -> HTMLResponse:
    typed = typed[:MAX_TYPED]
    context: dict[str, object] = {'typed': typed, 'found': None, 'problem': ''}
    status_code = 200
    if typed.strip():
        try:
            found = await rx_verification.look_up(typed, _client(request))
        except rx_verification.TooManyLookups as error:
            context['problem'], status_code = str(error), 503 if error.unavailable else 429
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
                )
    return await render.page(request, 'verify.html', status_code=status_code, title='Check a prescription', **context)


@router.get('/verify', response_class=HTMLResponse)
async def verify_page(request: Request, code: str = '') -> HTMLResponse:
    return await _answer(request, code)


@router.post('/verify', response_class=HTMLResponse)
async def verify_typed(request: Request) -> HTMLResponse:
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    if not csrf.is_valid(request, fields.get(csrf.FIELD)):  # nothing looked up, nothing counted
        return await render.page(
            request,
            'verify.html',
            status_code=403,
            title='Check a prescription',
            typed='',
            found=None,
            problem=FORM_EXPIRED,
        )
    return await _answer(request, fields.get('code', ''))
