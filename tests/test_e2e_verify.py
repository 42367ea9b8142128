"""End to end: the QR printed on a released Rx opens /verify on a seller's phone, signed out, and says
*Current*; once the prescriber signs a newer Rx of the same use, the same code says *Replaced*."""

import io
import os
import re
import sys
from pathlib import Path

import pytest
import zxingcpp
from playwright.async_api import Page, async_playwright, expect
from pypdf import PdfReader

from portal.devmail import _free_port
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_process
from tests.mail import SmtpServer

pytestmark = pytest.mark.browser


async def _sign_glasses(desk: Page, sphere: str) -> None:
    """The prescriber writes a distance glasses Rx and signs it, replacing the current one."""
    await desk.get_by_role('button', name='New glasses Rx').click()
    await desk.get_by_label('OD Sphere', exact=True).fill(sphere)
    await desk.get_by_label('OS Sphere', exact=True).fill(sphere)
    await desk.get_by_role('button', name='Save and sign').click()
    await desk.get_by_role('button', name='Sign and replace').click()
    await expect(desk.get_by_role('dialog')).to_have_count(0)


async def test_the_qr_on_the_pdf_opens_verify_on_a_phone_current_then_replaced(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
    if os.environ.get('PORTAL_TEST_DATABASE_URL'):
        pytest.skip('runs on the demo practice (SQLite) once per CI run')
    require_chromium()
    expect.set_options(timeout=15_000)
    port = _free_port()
    base_url = f'http://127.0.0.1:{port}'
    env = {
        'PORTAL_DATA_DIR': str(tmp_path / 'data'),
        'PORTAL_SECRET_KEY': secret_key,
        'PORTAL_SMTP_HOST': '127.0.0.1',
        'PORTAL_SMTP_PORT': str(smtp_server.port),
        'PORTAL_PORT': str(port),
        'PORTAL_BASE_URL': base_url,
    }
    with running_process([sys.executable, 'main.py', '--demo'], env, base_url + '/login', tmp_path / 'portal.log'):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                desk = await (await browser.new_context(viewport={'width': 1366, 'height': 900})).new_page()
                await desk.goto(base_url + '/staff/login')
                await desk.get_by_label('Email').fill('admin@example.com')  # the demo owner, Maria's prescriber
                await desk.get_by_label('Password').fill('demo-password-1')
                await desk.get_by_role('button', name='Sign in').click()
                await expect(desk).to_have_url(re.compile(r'/staff/?$'))
                await desk.get_by_label('Find a patient').fill('Alvarez')
                await desk.get_by_role('link', name=re.compile('Alvarez, Maria')).click()
                await expect(desk).to_have_url(re.compile(r'/staff/patients/\d+$'))
                await _sign_glasses(desk, '-1.00')  # Maria's distance glasses Rx had expired: a new one
                current = (
                    desk.locator('.border-t')
                    .filter(has_text='Glasses · Distance')
                    .filter(has=desk.get_by_text('Signed', exact=True))
                )
                await expect(current).to_have_count(1)
                href = await current.locator('a[href$=".pdf"]').get_attribute('href')
                pdf = await (await desk.request.get(base_url + href)).body()

                (image,) = PdfReader(io.BytesIO(pdf)).pages[0].images
                (qr,) = zxingcpp.read_barcodes(image.image)
                assert qr.text.startswith(base_url + '/verify?code=')

                seller = await (
                    await browser.new_context(viewport={'width': 390, 'height': 844}, is_mobile=True)
                ).new_page()
                await seller.goto(qr.text)
                await expect(seller.get_by_test_id('status')).to_have_text('Current')
                await expect(seller.get_by_text('Maria Alvarez')).to_be_visible()
                assert await seller.evaluate('document.documentElement.scrollWidth') <= 390

                await _sign_glasses(desk, '-1.25')
                await expect(desk.locator(f'.border-t:has(a[href="{href}"])')).to_contain_text('Replaced')

                await seller.reload()
                await expect(seller.get_by_test_id('status')).to_have_text('Replaced by a newer prescription')
            finally:
                await browser.close()
