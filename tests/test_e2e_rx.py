"""End to end on a new installation: the admin sets the practice up in the console, writes and signs a
glasses and a contact lens Rx, enables the portal; the patient, on a phone, logs in by the emailed link,
consents, sees both, prints one and downloads the PDF, which carries what an optician needs.
"""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Page, async_playwright, expect
from pypdf import PdfReader

from portal.db import apply_migrations
from tests import factories
from tests.databases import fresh_database_url
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, ROOT, drawn, fill_staff_sign_in, require_chromium, running_portal
from tests.mail import SmtpServer, link_in

pytestmark = pytest.mark.browser

ADMIN_EMAIL = 'owner@example.org'
ADMIN_PASSWORD = 'a long owner passphrase'
PATIENT_EMAIL = 'noor.haddad@example.com'


async def _new_installation(url: str, env: dict[str, str]) -> None:
    """What the README's first-time setup says: migrate, then `main.py create-staff --role admin`."""
    await apply_migrations(url)
    subprocess.run(
        [sys.executable, 'main.py', 'create-staff', '--email', ADMIN_EMAIL, '--name', 'Dana Whitfield']
        + ['--role', 'admin', '--password-stdin'],
        input=ADMIN_PASSWORD + '\n',
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


async def _fill(page: Page, values: dict[str, str]) -> None:
    for label, value in values.items():
        await page.get_by_label(label, exact=True).fill(value)


async def _admin_sets_up_the_practice(page: Page, base_url: str) -> None:
    """An empty installation's first admin sets up two-step sign-in (required of administrators), then is sent
    to the setup; the Team page links them to their provider."""
    await page.goto(base_url + '/staff/login')
    await fill_staff_sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD, totp_secret=None)  # not set up yet
    await expect(page).to_have_url(re.compile(r'/staff/two-factor$'))
    await expect(page.get_by_text('Administrators must turn on two-step sign-in')).to_be_visible()
    await page.get_by_role('button', name='Set up two-step sign-in').click()
    key = await page.get_by_text('Or type this key into the app:').text_content()
    secret = re.sub(r'\s', '', (key or '').split(':', 1)[1])
    await page.get_by_label('Code', exact=True).fill(pyotp.TOTP(secret).now())
    await page.get_by_role('button', name='Turn on').click()
    await page.get_by_role('button', name='Continue to the console').click()
    await expect(page).to_have_url(re.compile(r'/staff/setup$'))

    await _fill(
        page,
        {
            'Practice name': 'Lakeside Vision',
            'Practice phone': '(207) 555-0140',
            'Practice fax (optional)': '(207) 555-0141',
            'Street address': '9 Shore Road',
            'City': 'Portland',
            'State': 'ME',
            'ZIP code': '04101',
        },
    )
    await page.get_by_role('button', name='Save the practice').click()
    await expect(page.get_by_text('Practice saved')).to_be_visible()
    await _fill(page, {'Location name': 'Shore Road', 'Location address (optional)': '9 Shore Road, Portland, ME'})
    await page.get_by_role('button', name='Add the location').click()
    await expect(page.get_by_text('✓ Shore Road')).to_be_visible()
    await _fill(
        page,
        {
            'Provider name (as printed on prescriptions)': 'Dana Whitfield',
            'Credentials (e.g. OD, MD)': 'OD',
            'NPI (10 digits)': '1234567893',
            'License number': 'ME-OD-4471',
            'License state (e.g. VT)': 'ME',
        },
    )
    await page.get_by_role('button', name='Add the provider').click()
    await expect(page.get_by_text('Setup is complete.')).to_be_visible()

    await page.get_by_role('link', name='Add your team').click()
    await expect(page).to_have_url(re.compile(r'/staff/team$'))
    await page.get_by_label('Provider signed by Dana Whitfield').click()
    await page.get_by_role('option', name='Dana Whitfield, OD').click()
    await expect(page.get_by_text('Dana Whitfield signs prescriptions as Dana Whitfield, OD.')).to_be_visible()
    await page.reload()  # what the page shows now is what was stored
    await expect(page.get_by_label('Provider signed by Dana Whitfield')).to_have_text(re.compile('Dana Whitfield, OD'))


async def _admin_writes_and_signs(page: Page, base_url: str) -> None:
    await page.goto(base_url + '/staff')
    await expect(page).to_have_url(re.compile(r'/staff/?$'))

    await page.get_by_role('button', name='New patient').click()
    await _fill(
        page,
        {
            'First name': 'Noor',
            'Last name': 'Haddad',
            'Date of birth (MM/DD/YYYY)': '02/14/1988',
            'Email': PATIENT_EMAIL,
        },
    )
    await page.get_by_role('button', name='Save').click()
    await expect(page).to_have_url(re.compile(r'/staff/patients/\d+'))

    await page.get_by_role('button', name='New glasses Rx').click()
    await _fill(page, {'OD Sphere': '-2.25', 'OD Cylinder': '-0.75', 'OD Axis': '90', 'OS Sphere': 'PL'})
    await page.get_by_label('PD binocular (mm)').fill('63')
    await page.get_by_role('button', name='Save and sign').click()
    await expect(page.get_by_text('Print it for the patient')).to_be_visible()  # no consent yet
    await page.get_by_role('button', name='Later').click()

    await page.get_by_role('button', name='New contact lens Rx').click()
    for eye in ('OD', 'OS'):
        await _fill(
            page,
            {
                f'{eye} Power': '-2.50',
                f'{eye} Base curve': '8.6',
                f'{eye} Diameter': '14.2',
                f'{eye} Manufacturer': 'CooperVision',
                f'{eye} Brand': 'Biofinity',
            },
        )
    await page.get_by_label('Replacement schedule').fill('Monthly')
    await page.get_by_role('button', name='Save and sign').click()
    await expect(page.get_by_text('Print it for the patient')).to_be_visible()
    await page.get_by_role('button', name='Later').click()
    await expect(page.get_by_text('Signed', exact=True)).to_have_count(2)

    await page.get_by_role('button', name='Patient actions').click()
    await page.locator('.q-menu').get_by_text('Enable Patient Portal').click()
    await expect(page.get_by_text(re.compile(r'^Active$')).first).to_be_visible()


async def _download(page: Page, link) -> str:
    async with page.expect_download() as info:
        await link.click()
    download = await info.value
    content = Path(await download.path()).read_bytes()
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    return '\n'.join(p.extract_text() for p in reader.pages)


async def test_new_practice_writes_signs_and_the_patient_prints_and_downloads_on_a_phone(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
    require_chromium()
    expect.set_options(timeout=15_000)  # signing and the live refresh take a few round trips on a loaded CI box
    async with fresh_database_url(str(tmp_path)) as url:
        env = {
            'PORTAL_DATA_DIR': str(tmp_path / 'data'),
            'PORTAL_DATABASE_URL': url,
            'PORTAL_SECRET_KEY': secret_key,
            'PORTAL_SMTP_HOST': '127.0.0.1',
            'PORTAL_SMTP_PORT': str(smtp_server.port),
        }
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_', 'PORTAL_'))}
        await _new_installation(url, {**inherited, **env})
        with running_portal(env, tmp_path / 'portal.log') as base_url:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    desk = await (await browser.new_context(viewport={'width': 1366, 'height': 900})).new_page()
                    desk.set_default_timeout(15_000)
                    await _admin_sets_up_the_practice(desk, base_url)
                    await _admin_writes_and_signs(desk, base_url)

                    phone = await browser.new_context(
                        viewport={'width': 390, 'height': 844}, is_mobile=True, accept_downloads=True
                    )
                    page = await phone.new_page()
                    page.set_default_timeout(15_000)
                    await page.goto(base_url + '/login')
                    await page.get_by_label('Email address').fill(PATIENT_EMAIL)
                    await page.get_by_role('button', name='Email me a login link').click()
                    await page.goto(link_in(await smtp_server.wait_for(PATIENT_EMAIL)))
                    await page.get_by_role('button', name='Continue').click()
                    await expect(page).to_have_url(re.compile(r'/prescriptions$'))
                    await drawn(page)

                    await expect(page.get_by_text('Receive your prescriptions here')).to_be_visible()
                    await page.get_by_role('checkbox').click()
                    await page.get_by_role('button', name='Show my prescriptions').click()
                    glasses = page.locator('section', has_text='Glasses prescription')
                    lenses = page.locator('section', has_text='Contact lens prescription')
                    await expect(glasses).to_be_visible()
                    await expect(lenses).to_be_visible()
                    lens_text = await _download(page, lenses.get_by_role('link', name='Download PDF'))

                    await glasses.get_by_role('link', name='View / print').click()
                    await drawn(page)
                    await expect(page.get_by_text('Electronically signed by Dana Whitfield, OD')).to_be_visible()
                    await page.get_by_role('button', name='Print').click()
                    glasses_text = await _download(page, page.get_by_role('link', name='Download PDF'))
                finally:
                    await browser.close()

    signed_on = f'{factories.today():%B} {factories.today().day}, {factories.today().year}'
    od = next(line for line in glasses_text.splitlines() if line.startswith('OD'))
    os_line = next(line for line in glasses_text.splitlines() if line.startswith('OS'))
    assert tuple(v for v in ('-2.25', '-0.75', '090') if v in od) == ('-2.25', '-0.75', '090')
    assert 'PL' in os_line and 'DS' in os_line
    for needed in (
        'Noor Haddad',
        'Fax: (207) 555-0141',
        'PD',
        '63.0 mm',
        'Purpose',
        'Distance',
        'License',
        'ME-OD-4471 (ME)',
        f'Electronically signed by Dana Whitfield, OD, on {signed_on}',
        'No in-office signature needed',
    ):
        assert needed in glasses_text, needed
    for needed in ('Power', '-2.50', '8.60', '14.2', 'CooperVision - Biofinity', 'Monthly', 'License'):
        assert needed in lens_text, needed
    assert 'Sphere' not in lens_text
