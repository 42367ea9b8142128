"""Zero axe-core violations, all impact levels, on the pages of both trees at 320 px, 390 px and desktop.

The demo practice gives every page real content (prescriptions, invoices, appointments, requests); each
page is loaded once and checked at the three widths, in the states that matter: with data, empty, with
a form's errors showing, with a dialog open. axe-core is vendored (tests/vendor, pinned, MPL-2.0), so
the check never downloads anything. Browser-only and slow-ish, it runs once per CI: in the SQLite pass.
"""

import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from portal.devmail import _free_port
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, drawn, require_chromium, running_process
from tests.mail import SmtpServer, link_in

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / 'vendor' / 'axe-4.14.1.min.js').read_text()
WIDTHS = {'narrow': (320, 640), 'phone': (390, 844), 'desktop': (1366, 900)}
AXE_RUN = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(
    v => `${v.id} (${v.impact}): ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))"""
STAFF = ('admin@example.com', 'demo-password-1')
PATIENT = 'maria.alvarez@example.com'

State = Callable[[Page], Awaitable[None]]


async def _nothing(page: Page) -> None:
    return None


async def _settled(page: Page) -> None:
    """NiceGUI draws after load: wait until its client is connected and the page has stopped changing."""
    await page.wait_for_load_state('networkidle')
    await page.wait_for_timeout(300)


async def _violations(page: Page, label: str) -> list[str]:
    found = []
    for width_name, (width, height) in WIDTHS.items():
        await page.set_viewport_size({'width': width, 'height': height})
        await page.wait_for_timeout(150)  # let Quasar's breakpoints re-lay the page out
        if not await page.evaluate('typeof axe !== "undefined"'):
            await page.add_script_tag(content=AXE)
        found += [f'{label} at {width_name}: {v}' for v in await page.evaluate(AXE_RUN)]
    return found


async def _check(page: Page, url: str, state: State = _nothing, label: str = '') -> list[str]:
    await page.goto(url)
    await _settled(page)
    await state(page)
    await _settled(page)
    return await _violations(page, label or url.split('//', 1)[1].split('/', 1)[1] or '/')


async def _new_patient_dialog_with_errors(page: Page) -> None:
    await page.get_by_role('button', name='New patient').click()
    await page.get_by_role('button', name='Save').click()
    await expect(page.get_by_role('dialog')).to_be_visible()


async def _schedule_dialog(page: Page) -> None:
    await page.get_by_role('button', name='Schedule').first.click()
    await expect(page.get_by_role('dialog')).to_be_visible()


async def _log_dialog(page: Page) -> None:
    await page.get_by_role('button', name='Log a request').click()
    await expect(page.get_by_role('dialog')).to_be_visible()


async def _share_dialog(page: Page) -> None:
    await page.get_by_role('button', name='Share with an optician or store').first.click()
    await expect(page.get_by_role('dialog')).to_be_visible()


async def _verify_pages(page: Page, base_url: str, code: str) -> list[str]:
    """The public check page (strict CSP: this context lets axe's script in): empty, unknown code, an Rx."""
    found = await _check(page, base_url + '/verify')
    found += await _check(page, base_url + '/verify?code=AAAA', label='verify with an unknown code')
    found += await _check(page, base_url + f'/verify?code={code}', label='verify with a shared Rx')
    return found


async def _search_results(page: Page) -> None:
    await page.get_by_label('Find a patient').fill('a')
    await expect(page.get_by_text(re.compile(r'patients? found'))).to_be_visible()


async def _login_with_unknown_email_error(page: Page) -> None:
    await page.get_by_label('Email address').fill('not an address')
    await page.get_by_role('button', name='Email me a login link').click()


async def _staff_pages(page: Page, base_url: str) -> list[str]:
    found = await _check(page, base_url + '/staff/login')
    await page.get_by_label('Email').fill(STAFF[0])
    await page.get_by_label('Password').fill(STAFF[1])
    await page.get_by_role('button', name='Sign in').click()
    await expect(page).to_have_url(re.compile(r'/staff/?$'))
    found += await _check(page, base_url + '/staff')
    found += await _check(page, base_url + '/staff', _search_results, 'staff search results')
    await page.get_by_label('Find a patient').fill('Alvarez')
    # the list of the earlier search ('a') also holds the link: wait for this search's list, or the click can
    # land on a link that the redraw removes
    await expect(page.get_by_text('1 patient found')).to_be_visible()
    await page.get_by_role('link', name=re.compile('Alvarez')).first.click()
    await expect(page).to_have_url(re.compile(r'/staff/patients/\d+$'))
    profile = page.url
    found += await _check(page, profile, label='patient profile')
    found += await _check(page, base_url + '/staff', _new_patient_dialog_with_errors, 'new patient dialog, errors')
    for path in (
        '/staff/settings',
        '/staff/team',
        '/staff/api-clients',
        '/staff/email-upkeep',
        '/staff/import',
        '/staff/release-evidence',
        '/staff/setup',
        '/staff/requests',
        '/staff/schedule?view=week',
        '/staff/verifications',
        '/staff/audit',
        '/staff/two-factor',
    ):
        found += await _check(page, base_url + path)
    found += await _check(page, base_url + '/staff/requests', _schedule_dialog, 'schedule a request dialog')
    found += await _check(page, base_url + '/staff/verifications', _log_dialog, 'log a verification request dialog')
    found += await _check(page, base_url + '/staff/patients/999999', label='staff profile not found')
    found += await _check(page, base_url + '/staff/no-such-page', label='staff 404')
    return found


async def _patient_pages(page: Page, base_url: str, smtp_server: SmtpServer, codes: list[str]) -> list[str]:
    found = await _check(page, base_url + '/login')
    found += await _check(page, base_url + '/login', _login_with_unknown_email_error, 'login with an error')
    found += await _check(page, base_url + '/help')
    found += await _check(page, base_url + '/login/link/not-a-link', label='unusable login link')
    found += await _check(page, base_url + '/no-such-page', label='patient 404')
    await page.goto(base_url + '/login')
    await page.get_by_label('Email address').fill(PATIENT)
    await page.get_by_role('button', name='Email me a login link').click()
    await expect(page).to_have_url(re.compile(r'/login/sent'))
    found += await _violations(page, 'login/sent')
    await page.goto(link_in(await smtp_server.wait_for(PATIENT)))
    await _settled(page)
    found += await _violations(page, 'login link')
    await page.get_by_role('button', name='Continue').click()
    await expect(page).to_have_url(re.compile(r'/prescriptions$'))
    await drawn(page)
    for path in ('/prescriptions', '/appointments', '/billing', '/help', '/logout', '/no-such-page'):
        found += await _check(page, base_url + path, label=f'{path} (signed in)')
    found += await _check(page, base_url + '/prescriptions', _share_dialog, 'share an Rx dialog')
    codes.append(await page.get_by_role('dialog').locator('.rx-code').inner_text())
    return found


async def test_every_page_of_both_trees_has_no_axe_violations_at_three_widths(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
    if os.environ.get('PORTAL_TEST_DATABASE_URL'):
        pytest.skip('axe runs once per CI run, in the SQLite pass (the pages do not depend on the database)')
    require_chromium()
    expect.set_options(timeout=15_000)
    port_env = {
        'PORTAL_DATA_DIR': str(tmp_path / 'data'),
        'PORTAL_SECRET_KEY': secret_key,
        'PORTAL_SMTP_HOST': '127.0.0.1',
        'PORTAL_SMTP_PORT': str(smtp_server.port),
    }
    port = _free_port()
    base_url = f'http://127.0.0.1:{port}'
    env = {**port_env, 'PORTAL_PORT': str(port), 'PORTAL_BASE_URL': base_url}
    with running_process([sys.executable, 'main.py', '--demo'], env, base_url + '/login', tmp_path / 'portal.log'):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                # axe is injected as an inline script: the entry pages' strict content policy would refuse it.
                staff = await (await browser.new_context(bypass_csp=True)).new_page()
                patient = await (await browser.new_context(is_mobile=True, bypass_csp=True)).new_page()
                codes: list[str] = []
                found = await _staff_pages(staff, base_url) + await _patient_pages(
                    patient, base_url, smtp_server, codes
                )
                anonymous = await (await browser.new_context(is_mobile=True, bypass_csp=True)).new_page()
                found += await _verify_pages(anonymous, base_url, codes[0])
            finally:
                await browser.close()
    assert found == [], 'axe-core violations:\n' + '\n'.join(found)
