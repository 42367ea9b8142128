"""Several app instances behind one address share the database and Redis: a patient can land on any."""

import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect
from tortoise.context import TortoiseContext

from portal.db import apply_migrations, tortoise_config
from tests import factories
from tests.databases import fresh_database_url
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, drawn, require_chromium, running_portal
from tests.mail import SmtpServer, link_in

pytestmark = pytest.mark.browser

REDIS_URL = 'redis://127.0.0.1:6379'


async def _seed(url: str, email: str) -> None:
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        patient = await factories.make_active_patient(first_name='Sasha', email=email)
        await factories.make_spectacle_rx(patient)


async def _ask_for_link(page: Page, base_url: str, email: str) -> None:
    await page.goto(base_url + '/login')
    await page.get_by_label('Email address').fill(email)
    await page.get_by_role('button', name='Email me a login link').click()


async def test_a_patient_signed_in_on_one_instance_is_signed_in_on_another_and_limits_are_shared(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
    require_chromium()
    email = f'sasha.{uuid.uuid4().hex[:8]}@example.com'  # Redis outlives the test: a fresh address each run
    async with fresh_database_url(str(tmp_path)) as url:
        await _seed(url, email)
        env = {
            'PORTAL_DATABASE_URL': url,
            'PORTAL_SECRET_KEY': secret_key,
            'PORTAL_REDIS_URL': REDIS_URL,
            'PORTAL_SMTP_HOST': '127.0.0.1',
            'PORTAL_SMTP_PORT': str(smtp_server.port),
        }
        with (
            running_portal({**env, 'PORTAL_DATA_DIR': str(tmp_path / 'a')}, tmp_path / 'a.log') as instance_a,
            running_portal({**env, 'PORTAL_DATA_DIR': str(tmp_path / 'b')}, tmp_path / 'b.log') as instance_b,
        ):
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = await (await browser.new_context(viewport={'width': 390, 'height': 844})).new_page()
                    await _ask_for_link(page, instance_a, email)
                    await expect(page.get_by_text('Check your email').first).to_be_visible()
                    await page.goto(link_in(await smtp_server.wait_for(email)))
                    await page.get_by_role('button', name='Continue').click()
                    await expect(page).to_have_url(re.compile(r'/prescriptions$'))
                    await drawn(page)

                    # The same browser reaches the other instance (same host, so the same cookie).
                    await page.goto(instance_b + '/prescriptions')
                    await drawn(page)
                    await expect(page.get_by_text('Hello, Sasha')).to_be_visible()

                    # The per-address limit is counted in Redis, so the other instance refuses too.
                    other = await (await browser.new_context()).new_page()
                    await _ask_for_link(other, instance_b, email)
                    await expect(
                        other.get_by_text('Please wait a minute before asking for another link.')
                    ).to_be_visible()

                    # Logging out in another tab on one instance ends the session on both, and the tab open
                    # on the other instance hears it through Redis and leaves by itself.
                    await page.goto(instance_a + '/prescriptions')
                    await drawn(page)
                    await expect(page.get_by_text('Hello, Sasha')).to_be_visible()
                    other_tab = await page.context.new_page()
                    await other_tab.goto(instance_b + '/prescriptions')
                    await drawn(other_tab)
                    await other_tab.get_by_role('button', name='Log out').click()  # the frame's form POST
                    await expect(other_tab).to_have_url(re.compile(r'/login\?reason=signed_out$'))
                    await expect(page).to_have_url(re.compile(r'/login\?reason=signed_out$'), timeout=10_000)
                    await page.goto(instance_a + '/prescriptions')
                    await drawn(page)
                    await expect(page).to_have_url(re.compile(r'/login$'))
                finally:
                    await browser.close()
