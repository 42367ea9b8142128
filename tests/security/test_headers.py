"""Security headers: the content policies, framing, referrer, sniffing and caching rules on real routes."""

import httpx
from nicegui.testing import User
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from portal.headers import NICEGUI_CSP, STRICT_CSP, SecurityHeadersMiddleware
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in


def _common(response) -> None:
    assert response.headers['x-frame-options'] == 'DENY'
    assert "frame-ancestors 'none'" in response.headers['content-security-policy']
    assert response.headers['x-content-type-options'] == 'nosniff'
    assert 'strict-transport-security' not in response.headers  # plain http in these tests


async def test_a_nicegui_page_gets_the_nicegui_policy_and_no_framing(user: User):
    response = await user.http_client.get('/staff/login')

    assert response.status_code == 200
    _common(response)
    assert response.headers['content-security-policy'] == NICEGUI_CSP
    assert response.headers['referrer-policy'] == 'same-origin'
    assert response.headers['cache-control'] == 'no-store'


def test_the_nicegui_policy_allows_no_other_origin_and_no_plugins():
    directives = dict(d.strip().split(' ', 1) for d in NICEGUI_CSP.split(';'))
    assert directives['default-src'] == "'none'"
    for name, sources in directives.items():
        assert 'http' not in sources and '*' not in sources, name
    assert "'unsafe-inline'" not in STRICT_CSP and "'unsafe-eval'" not in STRICT_CSP


async def test_login_link_and_set_password_pages_send_no_referrer(user: User):
    for path in ('/login/link/some.token.here', '/staff/set-password/some-token'):
        response = await user.http_client.get(path)
        assert response.status_code == 200, path
        _common(response)
        assert response.headers['referrer-policy'] == 'no-referrer', path
        assert response.headers['cache-control'] == 'no-store', path


async def test_signed_in_pages_and_downloads_are_never_cached(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    invoice = await factories.make_invoice(patient, [('Comprehensive eye exam', 15000)])
    await sign_in(user, smtp_server, patient)

    page = await user.http_client.get('/billing')
    pdf = await user.http_client.get(f'/billing/{invoice.id}.pdf')

    assert page.status_code == 200 and page.headers['cache-control'] == 'no-store'
    assert pdf.status_code == 200 and pdf.headers['cache-control'] == 'no-store'
    _common(pdf)
    assert pdf.headers['content-security-policy'] == "frame-ancestors 'none'"  # the browser's PDF viewer runs


async def test_the_guards_redirects_carry_the_headers_too(user: User):
    response = await user.http_client.get('/staff/team')

    assert response.status_code == 303
    _common(response)
    assert response.headers['cache-control'] == 'no-store'


def _plain_app(**kwargs: bool) -> httpx.AsyncClient:
    async def page(request: object) -> HTMLResponse:
        return HTMLResponse('<form method="post"><button>Log in</button></form>')

    async def own_policy(request: object) -> HTMLResponse:
        return HTMLResponse('<p>verify</p>', headers={'Content-Security-Policy': "default-src 'none'"})

    async def static(request: object) -> Response:
        return Response('body{}', media_type='text/css', headers={'Cache-Control': 'public, max-age=3600'})

    async def stylesheet(request: object) -> Response:
        return Response('main{}', media_type='text/css')

    routes = [
        Route('/login', page),
        Route('/verify', own_policy),
        Route('/_nicegui/3/static/x.css', static),
        Route('/entry.css', stylesheet),
    ]
    app = SecurityHeadersMiddleware(Starlette(routes=routes), **kwargs)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://portal.test')


async def test_plain_html_pages_get_the_strict_policy_without_inline_script():
    response = await _plain_app().get('/login')

    _common(response)
    assert response.headers['content-security-policy'] == STRICT_CSP
    assert 'unsafe' not in response.headers['content-security-policy']
    assert response.headers['cache-control'] == 'no-store'


async def test_a_response_with_its_own_policy_keeps_it_and_framework_assets_keep_their_caching():
    client = _plain_app()

    assert (await client.get('/verify')).headers['content-security-policy'] == "default-src 'none'"
    assert (await client.get('/_nicegui/3/static/x.css')).headers['cache-control'] == 'public, max-age=3600'
    assert 'cache-control' not in (await client.get('/entry.css')).headers  # a stylesheet holds nothing private


async def test_hsts_only_behind_https():
    assert 'strict-transport-security' not in (await _plain_app(https=False).get('/login')).headers
    assert (await _plain_app(https=True).get('/login')).headers['strict-transport-security'] == 'max-age=31536000'


async def test_the_verify_page_is_plain_html_under_the_strict_policy_and_sends_no_referrer(user: User):
    from services import verification_codes
    from tests.test_verify_page import _patient_with_rx

    *_, code = await _patient_with_rx()
    response = await user.http_client.get(f'/verify?code={verification_codes.display(code)}')

    assert response.status_code == 200 and 'Current' in response.text
    _common(response)
    assert response.headers['content-security-policy'] == STRICT_CSP
    assert response.headers['referrer-policy'] == 'no-referrer'  # the code is in the QR's address
    page = response.text.lower()
    assert '<script' not in page and '<style' not in page and ' style=' not in page  # nothing the policy blocks
