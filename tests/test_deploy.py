"""The production recipe, run for real: Debian's nginx with `deploy/nginx/eyecare-portal.conf` in front of
two instances started as `deploy/systemd/eyecare-portal@.service` starts them, on PostgreSQL and Redis,
and the login journey in headless Chromium through the proxy, then the load benchmark's smoke mode.

It runs in the PostgreSQL pass of the suite only (skipped, with the reason, on SQLite), so CI runs it once.
"""

import asyncio
import os
import re
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect
from tortoise.context import TortoiseContext

from bench import load
from models.audit import AuditEvent
from portal.db import apply_migrations, tortoise_config
from tests import factories
from tests.databases import PG_URL, fresh_database_url
from tests.deployment import NGINX, deployment
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, drawn, fill_staff_sign_in, require_chromium
from tests.mail import SmtpServer, link_in

pytestmark = [pytest.mark.browser, pytest.mark.deploy]

REDIS_URL = 'redis://127.0.0.1:6379'
SPOOFED = '203.0.113.99'


def require_nginx_and_postgres() -> None:
    if not PG_URL:
        pytest.skip('the deployment runs on PostgreSQL: set PORTAL_TEST_DATABASE_URL (the second pass of .ci/run)')
    if not Path(NGINX).exists():
        if os.environ.get('CI') == 'true':
            pytest.fail('nginx is not installed, and CI=true: .ci/run must install Debian nginx')
        pytest.skip('nginx is not installed (apt-get install nginx)')


async def _seed(url: str, email: str, load_emails: list[str]) -> None:
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        practice = await factories.make_practice(name='Harborview Eye Care')
        provider = await factories.make_provider(practice, name='Morgan Ellery')
        staff = await factories.make_staff(email='frontdesk@example.org', name='Robin Desk')
        await load.seed_patients(practice, provider, staff, load_emails)
        patient = await factories.make_patient(practice, first_name='Avery', last_name='Lindqvist', email=email)
        await factories.make_spectacle_rx(patient, provider)
        await factories.make_appointment(patient, in_days=10, reason='Contact lens fitting')
        await factories.make_invoice(patient, [('Comprehensive eye exam', 18500)], paid_cents=5000, number='INV-D-1')


async def _client_addresses(url: str) -> set[str]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        return set(await AuditEvent.all().values_list('client_address', flat=True))


def _routes(access_log: Path) -> dict:
    """Which instance each browser (by its `portal_route` cookie) reached, from nginx's access log."""
    lines = access_log.read_text().splitlines()
    by_cookie: dict[str, set[str]] = {}
    for line in lines:
        cookie, upstream, _ = line.split(' ', 2)
        if cookie != '-' and upstream != '-':
            by_cookie.setdefault(cookie, set()).add(upstream)
    return {'lines': lines, 'by_cookie': by_cookie}


async def _staff_enables_portal(page: Page, proxy_url: str) -> None:
    await page.goto(proxy_url + '/staff')
    await fill_staff_sign_in(page, 'frontdesk@example.org')
    await expect(page).to_have_url(re.compile(r'/staff/?$'))
    await page.get_by_label('Find a patient').fill('Lindqvist')
    await page.get_by_role('link', name=re.compile('Lindqvist')).first.click()
    await page.get_by_role('button', name='Patient actions').click()
    await page.locator('.q-menu').get_by_text('Enable Patient Portal').click()
    await expect(page.get_by_text(re.compile(r'^Active$')).first).to_be_visible()


async def test_two_instances_behind_nginx_serve_the_whole_login_journey_over_websockets(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
    require_nginx_and_postgres()
    require_chromium()
    run = uuid.uuid4().hex[:8]  # Redis outlives the test: fresh addresses each run
    email, load_emails = f'avery.{run}@example.com', [f'load{n}.{run}@example.com' for n in range(2)]
    async with fresh_database_url(str(tmp_path)) as url:
        await _seed(url, email, load_emails)
        shared = {
            'PORTAL_DATABASE_URL': url,
            'PORTAL_REDIS_URL': REDIS_URL,
            'PORTAL_SECRET_KEY': secret_key,
            'PORTAL_SMTP_HOST': '127.0.0.1',
            'PORTAL_SMTP_PORT': str(smtp_server.port),
        }
        with deployment(tmp_path, shared) as deployed:
            proxy_url = deployed.url
            for _ in range(16):  # new visitors, no cookie yet: spread over both instances
                with urllib.request.urlopen(proxy_url + '/login', timeout=30) as response:
                    assert any(c.startswith('portal_route=') for c in response.headers.get_all('Set-Cookie'))
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    staff = await browser.new_context()
                    await _staff_enables_portal(await staff.new_page(), proxy_url)

                    # A visitor who sends their own X-Forwarded-For must not be believed.
                    phone = await browser.new_context(
                        viewport={'width': 390, 'height': 844}, extra_http_headers={'X-Forwarded-For': SPOOFED}
                    )
                    page = await phone.new_page()
                    await page.goto(proxy_url + '/login')
                    await page.get_by_label('Email address').fill(email)
                    await page.get_by_role('button', name='Email me a login link').click()
                    await expect(page.get_by_text('Check your email').first).to_be_visible()
                    link = link_in(await smtp_server.wait_for(email))
                    assert link.startswith(proxy_url + '/login/link/')  # links name the public address
                    await page.goto(link)
                    await page.get_by_role('button', name='Continue').click()
                    await expect(page).to_have_url(re.compile(r'/prescriptions$'))
                    await drawn(page)
                    await expect(page.get_by_text('Morgan Ellery').first).to_be_visible()
                    await page.get_by_role('link', name='Appointments').click()
                    await drawn(page)
                    await expect(page.get_by_text('Contact lens fitting').first).to_be_visible()
                    await page.get_by_role('link', name='Billing').click()
                    await drawn(page)
                    await expect(page.get_by_text('INV-D-1').first).to_be_visible()

                    cookies = {c['name'] for c in await phone.cookies()}
                    assert 'portal_route' in cookies  # the proxy's sticky-session key
                finally:
                    await browser.close()

            # The load benchmark's smoke mode through the proxy: two simulated patients, the whole journey.
            smoke = load.Results()
            await asyncio.gather(
                *(load.journey(proxy_url, address, '198.51.100.7', smtp_server, smoke) for address in load_emails)
            )
            assert smoke.failures == [] and smoke.journeys == 2
        routed = _routes(tmp_path / 'nginx-access.log')
        assert any(' 101 ' in line and 'transport=websocket' in line for line in routed['lines'])  # websockets
        assert len(routed['by_cookie']) >= 2  # the staff browser and the phone
        assert len({line.split(' ')[1] for line in routed['lines']}) == 2  # both instances served visitors
        for route, upstreams in routed['by_cookie'].items():
            assert len(upstreams) == 1, f'browser {route} reached {upstreams}: sessions are not sticky'
        addresses = await _client_addresses(url)
        assert SPOOFED not in addresses
        assert '127.0.0.1' in addresses  # the proxy's view of the client, passed on and trusted
