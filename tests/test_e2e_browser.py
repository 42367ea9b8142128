"""End to end, as people would do it: a real server, a real SMTP server and headless Chromium."""

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect
from tortoise.context import TortoiseContext

from portal.db import apply_migrations, tortoise_config
from tests import factories
from tests.databases import fresh_database_url
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, drawn, fill_staff_sign_in, require_chromium, running_portal
from tests.mail import SmtpServer, link_in

pytestmark = pytest.mark.browser

PATIENT_EMAIL = 'avery.lindqvist@example.com'
STAFF_EMAIL = 'frontdesk@example.org'


async def _seed(url: str) -> None:
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        practice = await factories.make_practice(name='Harborview Eye Care')
        provider = await factories.make_provider(practice, name='Morgan Ellery')
        await factories.make_staff(email=STAFF_EMAIL, name='Robin Desk')
        patient = await factories.make_patient(practice, first_name='Avery', last_name='Lindqvist', email=PATIENT_EMAIL)
        await factories.make_spectacle_rx(patient, provider)
        await factories.make_appointment(patient, in_days=10, reason='Contact lens fitting')
        await factories.make_invoice(patient, [('Comprehensive eye exam', 18500)], paid_cents=5000, number='INV-E2E-1')


async def _staff_enables_portal(page: Page, base_url: str) -> None:
    await page.goto(base_url + '/staff')
    await expect(page).to_have_url(re.compile(r'/staff/login'))
    await fill_staff_sign_in(page, STAFF_EMAIL)
    await expect(page).to_have_url(re.compile(r'/staff/?$'))
    await page.get_by_label('Find a patient').fill('Lindqvist')
    await page.get_by_role('link', name=re.compile('Lindqvist')).first.click()
    await expect(page).to_have_url(re.compile(r'/staff/patients/\d+'))
    await page.get_by_role('button', name='Patient actions').click()
    await page.locator('.q-menu').get_by_text('Enable Patient Portal').click()
    await expect(page.get_by_text(re.compile(r'^Active$')).first).to_be_visible()


async def _patient_logs_in(page: Page, base_url: str, smtp_server: SmtpServer) -> None:
    await page.goto(base_url + '/')
    await expect(page).to_have_url(re.compile(r'/login$'))
    await page.get_by_label('Email address').fill(PATIENT_EMAIL.upper())
    await page.get_by_role('button', name='Email me a login link').click()
    await expect(page.get_by_text('Check your email').first).to_be_visible()
    link = link_in(await smtp_server.wait_for(PATIENT_EMAIL))
    assert link.startswith(base_url + '/login/link/')
    await page.goto(link)
    await page.get_by_role('button', name='Continue').click()
    await expect(page).to_have_url(re.compile(r'/prescriptions$'))
    await drawn(page)


async def test_staff_enables_the_portal_and_the_patient_logs_in_by_emailed_link(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
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
                    staff_page = await (await browser.new_context()).new_page()
                    await _staff_enables_portal(staff_page, base_url)

                    phone = await browser.new_context(viewport={'width': 390, 'height': 844}, is_mobile=True)
                    page = await phone.new_page()
                    await _patient_logs_in(page, base_url, smtp_server)
                    await expect(page.get_by_text('Morgan Ellery').first).to_be_visible()
                    await page.get_by_role('link', name='Appointments').click()
                    await drawn(page)
                    await expect(page.get_by_text('Contact lens fitting').first).to_be_visible()
                    await page.get_by_role('link', name='Billing').click()
                    await drawn(page)
                    await expect(page.get_by_text('$135.00').first).to_be_visible()
                    await expect(page.get_by_text('INV-E2E-1').first).to_be_visible()
                    # The server's copy of the page (pages.patient.prepaint), gone once drawn (`drawn` above), already
                    # shows the records before NiceGUI's scripts run (here: never), and its links work.
                    no_script = await browser.new_context(
                        viewport={'width': 390, 'height': 844}, java_script_enabled=False
                    )
                    await no_script.add_cookies(await phone.cookies())
                    plain = await no_script.new_page()
                    await plain.goto(base_url + '/prescriptions')
                    await expect(plain.get_by_text('Morgan Ellery').first).to_be_visible()
                    await plain.get_by_role('link', name='Billing').click()
                    await expect(plain.get_by_text('INV-E2E-1').first).to_be_visible()
                    await no_script.close()

                    # Staff record a payment at the desk: the patient's open Billing tab shows the new balance.
                    billing = staff_page.get_by_test_id('billing-section')
                    await billing.get_by_text('INV-E2E-1').click()
                    await billing.get_by_role('button', name='Record payment').click()
                    dialog = staff_page.get_by_role('dialog')
                    await dialog.get_by_label('Amount of the payment $').fill('35')
                    await dialog.get_by_role('button', name='Record payment').click()
                    await expect(staff_page.get_by_text('Balance after credits: $100.00')).to_be_visible()
                    await expect(page.get_by_test_id('balance')).to_have_text('$100.00', timeout=10_000)

                    # Staff disable the portal: the patient's open tab leaves by itself (pushed, no click).
                    await staff_page.get_by_role('button', name='Patient actions').click()
                    await staff_page.locator('.q-menu').get_by_text('Disable Patient Portal').click()
                    await staff_page.get_by_role('button', name='Disable portal').click()
                    await expect(page).to_have_url(re.compile(r'/login\?reason=disabled$'), timeout=10_000)
                    await expect(page.get_by_text('turned off by the practice')).to_be_visible()
                finally:
                    await browser.close()
