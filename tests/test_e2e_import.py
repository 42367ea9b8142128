"""End to end in a browser: an admin imports a patients CSV, the preview shows the refused row, the import
runs in the background while the page shows its result, and the new patients are found by search."""

import re
import sys
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from portal.devmail import _free_port
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_process
from tests.mail import SmtpServer

pytestmark = pytest.mark.browser

STAFF = ('admin@example.com', 'demo-password-1')  # the demo's admin
CSV = (
    'Chart #;First Name;Last Name;DOB;E-mail;Mobile\r\n'
    '88001;Ana;Müller;04/30/1990;ana.mueller@example.com;207-555-0188\r\n'
    '88002;Bad;Mail;1970-01-01;not-an-email;\r\n'
    '88003;Tomás;Quintero;1962-11-02;;(207) 555-0171\r\n'
).encode('cp1252')


async def test_admin_imports_patients_and_finds_them(tmp_path: Path, smtp_server: SmtpServer, secret_key: str):
    require_chromium()
    expect.set_options(timeout=20_000)
    file = tmp_path / 'old-system-export.csv'
    file.write_bytes(CSV)
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
                page = await (await browser.new_context(viewport={'width': 1366, 'height': 900})).new_page()
                await page.goto(base_url + '/staff/login')
                await page.get_by_label('Email').fill(STAFF[0])
                await page.get_by_label('Password').fill(STAFF[1])
                await page.get_by_role('button', name='Sign in').click()
                await expect(page).to_have_url(re.compile(r'/staff/?$'))

                await page.get_by_role('link', name='Import', exact=True).click()
                await expect(page.get_by_role('heading', name='Import records')).to_be_visible()
                async with page.expect_file_chooser() as chooser:  # the named button opens the file dialog
                    await page.get_by_role('button', name='Choose a CSV file').click()
                await (await chooser.value).set_files(file)
                await expect(page.get_by_text('old-system-export.csv: 3 rows')).to_be_visible()
                await page.get_by_role('button', name='Preview').click()
                await expect(page.get_by_text(re.compile(r'3 rows\. Refused: 1'))).to_be_visible()
                refused = page.get_by_role('row', name=re.compile('Refused'))
                await expect(refused).to_contain_text('not a valid email address')

                await page.get_by_role('button', name='Import 2 rows').click()
                await expect(
                    page.get_by_text(re.compile(r'New: 2 · Updated: 0 · No change: 0 · Refused: 1'))
                ).to_be_visible()
                await expect(page.get_by_text(re.compile(r'old-system-export\.csv .*Finished'))).to_be_visible()

                await page.goto(base_url + '/staff?q=M%C3%BCller')
                await expect(page.get_by_text('Müller, Ana')).to_be_visible()
                await page.goto(base_url + '/staff?q=quintero')
                await expect(page.get_by_text('Quintero, Tomás')).to_be_visible()
            finally:
                await browser.close()
