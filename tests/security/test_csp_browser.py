"""The console runs under its content policy in a real browser: no violation, nothing broken."""

import re
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect
from tortoise.context import TortoiseContext

from portal.db import apply_migrations, tortoise_config
from tests import factories
from tests.databases import fresh_database_url
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, fill_staff_sign_in, require_chromium, running_portal
from tests.mail import SmtpServer

pytestmark = pytest.mark.browser

REPORT_VIOLATIONS = (
    "document.addEventListener('securitypolicyviolation', "
    "e => console.error('CSP violation', e.violatedDirective, e.blockedURI))"
)


async def _seed(url: str) -> None:
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        practice = await factories.make_practice()
        await factories.make_provider(practice)
        await factories.make_staff(email='admin@example.org', name='Robin Admin')
        await factories.make_patient(practice, first_name='Avery', last_name='Lindqvist')


async def test_the_console_works_under_its_content_policy(tmp_path: Path, smtp_server: SmtpServer, secret_key: str):
    require_chromium()
    async with fresh_database_url(str(tmp_path)) as url:
        await _seed(url)
        env = {
            'PORTAL_DATA_DIR': str(tmp_path / 'data'),
            'PORTAL_DATABASE_URL': url,
            'PORTAL_SECRET_KEY': secret_key,
            'PORTAL_SMTP_HOST': '127.0.0.1',
            'PORTAL_SMTP_PORT': str(smtp_server.port),
        }
        with running_portal(env, tmp_path / 'portal.log') as base_url:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = await (await browser.new_context()).new_page()
                    problems: list[str] = []
                    page.on('console', lambda m: problems.append(m.text) if m.type == 'error' else None)
                    page.on('pageerror', lambda e: problems.append(str(e)))
                    await page.add_init_script(REPORT_VIOLATIONS)

                    response = await page.goto(base_url + '/staff/login')
                    assert response is not None and "'unsafe-eval'" in response.headers['content-security-policy']
                    await fill_staff_sign_in(page, 'admin@example.org')
                    await expect(page).to_have_url(re.compile(r'/staff/?$'))
                    await page.get_by_label('Find a patient').fill('Lindqvist')
                    await page.get_by_role('link', name=re.compile('Lindqvist')).first.click()
                    await expect(page).to_have_url(re.compile(r'/staff/patients/\d+'))
                    await page.get_by_role('button', name='Patient actions').click()  # a menu: Quasar and eval'd props
                    await expect(page.locator('.q-menu').get_by_text('Enable Patient Portal')).to_be_visible()
                    await page.locator('.q-menu').get_by_text('Enable Patient Portal').click()  # over the websocket
                    await expect(page.get_by_text(re.compile(r'^Active$')).first).to_be_visible()

                    assert problems == []
                finally:
                    await browser.close()
