"""End to end at the verification desk: a contact-lens seller phones to verify a prescription; the front desk
logs the request in the browser, the desk matches it to the patient and flags the value that differs, staff
answer *Inaccurate*, and the answer with the correct prescription from the record reaches the seller's
mailbox through a real SMTP server."""

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect
from tortoise.context import TortoiseContext

from portal.db import apply_migrations, tortoise_config
from tests import factories
from tests.databases import fresh_database_url
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, fill_staff_sign_in, require_chromium, running_portal
from tests.mail import SmtpServer, body

pytestmark = pytest.mark.browser

STAFF_EMAIL = 'frontdesk@example.org'
SELLER_EMAIL = 'verify@lensmart.example'


async def _seed(url: str) -> None:
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        practice = await factories.make_ready_practice(name='Harborview Eye Care', phone='(207) 555-0140')
        await factories.make_staff(email=STAFF_EMAIL, name='Robin Desk')
        patient = await factories.make_patient(
            practice, first_name='Jamie', last_name='Rivera', date_of_birth=date(1990, 4, 2)
        )
        await factories.make_contact_lens_rx(patient)  # OD -2.50, OS -2.25, AcmeDaily 1-Day


async def test_a_sellers_request_is_logged_matched_and_answered_inaccurate_by_email(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
    require_chromium()
    expect.set_options(timeout=15_000)
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
                    page = await (await browser.new_context(viewport={'width': 1366, 'height': 900})).new_page()
                    await page.goto(base_url + '/staff/login')
                    await fill_staff_sign_in(page, STAFF_EMAIL)
                    await expect(page).to_have_url(re.compile(r'/staff/?$'))

                    await page.goto(base_url + '/staff/verifications')
                    await page.get_by_role('button', name='Log a request').click()
                    dialog = page.get_by_role('dialog')
                    await dialog.get_by_label('Seller', exact=True).fill('LensMart Online')
                    await dialog.get_by_label('Seller email (the answer goes here)').fill(SELLER_EMAIL)
                    await dialog.get_by_label('Patient name as stated').fill('Rivera')
                    await dialog.get_by_label('Date of birth as stated').fill('1990-04-02')
                    await dialog.get_by_role('button', name='Find in our records').click()
                    await expect(dialog.get_by_text('Rivera, Jamie (born 04/02/1990)')).to_be_visible()
                    await dialog.get_by_label('Lens brand stated').fill('AcmeDaily 1-Day')
                    await dialog.get_by_label('OD Power').fill('-2.50')
                    await dialog.get_by_label('OS Power').fill('-2.00')  # the record says -2.25
                    await dialog.get_by_role('button', name='Log request').click()

                    await expect(page.get_by_text('1 stated value differs from the record.')).to_be_visible()
                    await page.get_by_role('button', name='Inaccurate').click()
                    await page.get_by_role('button', name=re.compile('^Send')).click()
                    await expect(page.get_by_text('Answer sent to the seller: Inaccurate.')).to_be_visible()
                finally:
                    await browser.close()
            answer = await smtp_server.wait_for(SELLER_EMAIL, timeout=30)
            text = body(answer)
            assert 'Harborview Eye Care' in str(answer['From']) or 'Harborview Eye Care' in text
            assert 'OS: Power -2.25, Base curve 8.60, Diameter 14.20' in text  # the correct values, from the record
