"""Login by magic link, as plain HTML forms: ask for the email, say the link is on its way (or take the
code from it), and let the link's Continue sign in; logout. Looking at a page never changes anything
(a mail scanner fetching the link must not use it): only a POST with this visitor's CSRF token acts.
The session goes into `app.storage.user`, where the NiceGUI pages read it.
"""

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import app

from pages import csrf
from pages.access import PATIENT_SESSION_KEY, client_address, current_patient
from pages.entry import router
from pages.entry.render import page
from pages.patient.page import login_url
from services import magic_link, sessions
from services.email_addresses import InvalidEmail, validated_email
from services.errors import DomainError

LOGIN_EMAIL_KEY = 'login_email'  # the address this browser asked a link for, for /login/sent and a new link
HOME = '/'
FORM_EXPIRED = 'This page was open for too long, so nothing was done. Please try again.'
GET_HEAD = ['GET', 'HEAD']


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _posted(request: Request) -> tuple[dict[str, str], bool]:
    """The form's text fields, and whether its CSRF token belongs to this visitor."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return fields, csrf.is_valid(request, fields.get(csrf.FIELD))


def _signed_in(session_token: str) -> None:
    app.storage.user[PATIENT_SESSION_KEY] = session_token
    app.storage.user.pop(LOGIN_EMAIL_KEY, None)


@router.api_route('/login', methods=GET_HEAD, include_in_schema=False)
async def login_page(request: Request, reason: str = '') -> Response:
    if await current_patient():
        return _see_other(HOME)
    return await page(
        request,
        'login.html',
        title='Log in',
        ended=sessions.PATIENT_END_MESSAGES.get(reason, ''),
        email=app.storage.user.get(LOGIN_EMAIL_KEY, ''),  # only an address this browser itself asked for
    )


@router.post('/login', include_in_schema=False)
async def ask_for_link(request: Request) -> Response:
    fields, trusted = await _posted(request)
    typed = fields.get('email', '').strip()[:320]
    if not trusted:
        return await page(request, 'login.html', title='Log in', email=typed, error=FORM_EXPIRED, status_code=403)
    try:
        address = validated_email(typed)
        await magic_link.request_login_link(address, client_address())
    except InvalidEmail as problem:
        return await page(request, 'login.html', title='Log in', email=typed, error=str(problem), status_code=400)
    except magic_link.TooManyRequests as problem:
        return await page(
            request,
            'login.html',
            title='Log in',
            email=typed,
            error=str(problem),
            status_code=503 if problem.kind == 'unavailable' else 429,  # the counters are away: not the patient's doing
            headers={'Retry-After': str(problem.retry_after_seconds)},
        )
    app.storage.user[LOGIN_EMAIL_KEY] = address
    return _see_other('/login/sent')


async def _sent_page(request: Request, address: str, *, error: str = '', status_code: int = 200) -> Response:
    minutes = magic_link.link_settings().valid_minutes
    # The same words whether or not the address has an account: the page must not reveal who is a patient.
    return await page(
        request,
        'sent.html',
        title='Check your email',
        email=address,
        minutes=minutes,
        error=error,
        status_code=status_code,
    )


@router.api_route('/login/sent', methods=GET_HEAD, include_in_schema=False)
async def link_sent_page(request: Request) -> Response:
    address = app.storage.user.get(LOGIN_EMAIL_KEY)
    if not address:
        return _see_other('/login')
    return await _sent_page(request, address)


@router.post('/login/code', include_in_schema=False)
async def log_in_with_code(request: Request) -> Response:
    fields, trusted = await _posted(request)
    address = app.storage.user.get(LOGIN_EMAIL_KEY)
    if not address:
        return _see_other('/login')
    if not trusted:
        return await _sent_page(request, address, error=FORM_EXPIRED, status_code=403)
    try:
        _, session_token = await magic_link.sign_in_with_code(address, fields.get('code', '')[:64], client_address())
    except DomainError as problem:
        return await _sent_page(request, address, error=str(problem), status_code=400)
    _signed_in(session_token)
    return _see_other(HOME)


async def _unusable(request: Request, problem: magic_link.LinkUnusable, status_code: int = 200) -> Response:
    return await page(
        request, 'unusable.html', title="Link can't be used", reason=str(problem), status_code=status_code
    )


@router.api_route(magic_link.LINK_PATH + '{token}', methods=GET_HEAD, include_in_schema=False)
async def link_page(request: Request, token: str) -> Response:
    """Opening the link changes nothing (mail scanners fetch links): only the Continue POST signs in."""
    try:
        account = await magic_link.check_link(token)
    except magic_link.LinkUnusable as problem:
        return await _unusable(request, problem)
    return await page(
        request, 'link.html', title='Log in', returning=account.last_login_at is not None, action=request.url.path
    )


@router.post(magic_link.LINK_PATH + '{token}', include_in_schema=False)
async def continue_with_link(request: Request, token: str) -> Response:
    _, trusted = await _posted(request)
    if not trusted:
        try:
            account = await magic_link.check_link(token)
        except magic_link.LinkUnusable as problem:
            return await _unusable(request, problem)
        return await page(
            request,
            'link.html',
            title='Log in',
            returning=account.last_login_at is not None,
            action=request.url.path,
            error=FORM_EXPIRED,
            status_code=403,
        )
    try:
        _, session_token = await magic_link.sign_in_with_link(token, client_address())
    except magic_link.LinkUnusable as problem:  # expired (or used) while the page was open: say why, offer a new one
        return await _unusable(request, problem)
    _signed_in(session_token)
    return _see_other(HOME)


@router.api_route('/logout', methods=GET_HEAD, include_in_schema=False)
async def logout_page(request: Request) -> Response:
    """Logging out is a POST (another site could make a browser GET this): this page only offers it."""
    if not await current_patient():
        return _see_other('/login')
    return await page(request, 'logout.html', title='Log out', signed_in=True)


@router.post('/logout', include_in_schema=False)
async def log_out(request: Request) -> Response:
    _, trusted = await _posted(request)
    if not trusted:
        if not await current_patient():
            return _see_other('/login')
        return await page(request, 'logout.html', title='Log out', signed_in=True, error=FORM_EXPIRED, status_code=403)
    await sessions.close_patient_session(app.storage.user.pop(PATIENT_SESSION_KEY, None))
    app.storage.user.pop(LOGIN_EMAIL_KEY, None)
    return _see_other(login_url(sessions.SIGNED_OUT))
