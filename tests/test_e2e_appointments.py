"""End to end, the round trip of issue 6: the patient (on a phone) asks for an appointment; the front desk
(desktop) schedules it from the Requests inbox; the patient's open Appointments tab shows it scheduled
without a reload and the email reaches a real SMTP server; then the desk records a payment and the
patient's open Billing tab shows the new balance."""

import re
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect
from tortoise.context import TortoiseContext

from portal.db import apply_migrations, tortoise_config
from tests import factories
from tests.databases import fresh_database_url
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, drawn, fill_staff_sign_in, require_chromium, running_portal
from tests.mail import SmtpServer, body, link_in

pytestmark = pytest.mark.browser

PATIENT_EMAIL = 'quinn.okoro@example.com'
STAFF_EMAIL = 'desk@example.org'


async def _seed(url: str) -> int:
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        practice = await factories.make_practice(name='Harborview Eye Care')
        await factories.make_provider(practice, name='Morgan Ellery')
        await factories.make_location(practice, name='Harbor office', address='12 Harbor Street, Portland, ME')
        staff = await factories.make_staff(email=STAFF_EMAIL, name='Robin Desk')
        patient = await factories.make_active_patient(staff, first_name='Quinn', last_name='Okoro', email=PATIENT_EMAIL)
        await factories.make_invoice(patient, [('Comprehensive eye exam', 18500)], paid_cents=5000, number='INV-APT-1')
        return patient.id


async def test_a_request_is_scheduled_at_the_desk_and_the_patients_open_tabs_follow(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
    require_chromium()
    expect.set_options(timeout=15_000)  # a live refresh takes a few round trips on a loaded CI box
    async with fresh_database_url(str(tmp_path)) as url:
        patient_id = await _seed(url)
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
                    phone = await browser.new_context(viewport={'width': 390, 'height': 844}, is_mobile=True)
                    page = await phone.new_page()
                    await page.goto(base_url + '/login')
                    await page.get_by_label('Email address').fill(PATIENT_EMAIL)
                    await page.get_by_role('button', name='Email me a login link').click()
                    await page.goto(link_in(await smtp_server.wait_for(PATIENT_EMAIL)))
                    await page.get_by_role('button', name='Continue').click()
                    await expect(page).to_have_url(re.compile(r'/prescriptions$'))
                    await drawn(page)

                    await page.get_by_role('link', name='Appointments').click()
                    await drawn(page)
                    await expect(page.get_by_text('Sudden vision loss')).to_be_visible()
                    await page.get_by_label('Reason for the visit').fill('Glasses feel weak for reading')
                    await page.get_by_role('button', name='Send request').click()
                    request_card = page.locator('section', has_text='Glasses feel weak for reading')
                    await expect(request_card.get_by_text('Pending')).to_be_visible()

                    desk = await (await browser.new_context(viewport={'width': 1366, 'height': 900})).new_page()
                    await desk.goto(base_url + '/staff/login')
                    await fill_staff_sign_in(desk, STAFF_EMAIL)
                    await expect(desk).to_have_url(re.compile(r'/staff/?$'))
                    await desk.get_by_role('link', name=re.compile('^Requests')).click()
                    await expect(desk).to_have_url(re.compile(r'/staff/requests$'))
                    await expect(desk.get_by_text('Glasses feel weak for reading')).to_be_visible()
                    await desk.get_by_role('button', name='Schedule').click()
                    dialog = desk.get_by_role('dialog')
                    await expect(dialog.get_by_text('Schedule the request from Quinn Okoro')).to_be_visible()
                    await dialog.get_by_role('button', name='Schedule').click()
                    await expect(desk.get_by_text('No requests are waiting')).to_be_visible()

                    # The patient's tab, open all along, changes by itself.
                    await expect(request_card.get_by_text('Scheduled', exact=True)).to_be_visible()
                    await expect(page.get_by_text('You have no upcoming appointments.')).to_have_count(0)
                    await expect(page.get_by_role('link', name='Add to calendar')).to_be_visible()
                    mail = await smtp_server.wait_for(PATIENT_EMAIL, count=2)
                    assert 'Your appointment request has been scheduled.' in body(mail)
                    assert 'Harbor office' in body(mail)

                    # Billing: the patient opens the tab; the desk records a payment; the tab follows.
                    await page.get_by_role('link', name='Billing').click()
                    await drawn(page)
                    await expect(page.get_by_test_id('balance')).to_have_text('$135.00')
                    await desk.goto(f'{base_url}/staff/patients/{patient_id}')
                    billing = desk.get_by_test_id('billing-section')
                    await billing.get_by_text('INV-APT-1').click()
                    await billing.get_by_role('button', name='Record payment').click()
                    payment = desk.get_by_role('dialog')
                    await payment.get_by_label('Amount of the payment $').fill('35')
                    await payment.get_by_role('button', name='Record payment').click()
                    await expect(desk.get_by_text('Balance after credits: $100.00')).to_be_visible()
                    await expect(page.get_by_test_id('balance')).to_have_text('$100.00')
                finally:
                    await browser.close()
