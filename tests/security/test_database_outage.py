"""Faults with a real peer: the database connection cut while the app runs, then restored.

The running server (`python main.py`) reaches PostgreSQL through a TCP proxy the test controls
(`tests.tcp_proxy`): the server itself stays up for everyone else. While cut, pages answer the friendly
words (plain routes with status 503, NiceGUI pages in their frame), a write tried meanwhile is refused
with the same words and leaves nothing behind, and once the proxy is back the same pages work again
without a restart (asyncpg's pool replaces the dead connections), with everything written before the
cut still there. Signing staff in takes the NiceGUI sign-in page, hence a real browser.
"""

import html
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.async_api import BrowserContext, Page, async_playwright, expect
from tortoise.context import TortoiseContext

from models.appointment import AppointmentRequest
from models.outbox import OutboxMessage
from pages.failures import UNAVAILABLE
from portal.db import tortoise_config
from tests import factories
from tests.databases import PG_URL, migrated_database_url
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, drawn, require_chromium, running_portal
from tests.mail import SmtpServer, link_in
from tests.tcp_proxy import ThreadedTcpProxy

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not PG_URL,
        reason='PostgreSQL only: SQLite is a file the app opens in its own process, with no connection to cut',
    ),
]

PATIENT_EMAIL = 'noor.haddad@example.com'
LATE_EMAIL = 'sam.ortiz@example.com'  # asks for a login link during the cut
STAFF_EMAIL = 'desk@example.org'
POSTGRES_PORT = 5432


async def _seed(url: str) -> int:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        practice = await factories.make_ready_practice(name='Harborview Eye Care')
        staff = await factories.make_staff('staff', email=STAFF_EMAIL, name='Robin Desk')
        patient = await factories.make_active_patient(staff, practice=practice, first_name='Noor', email=PATIENT_EMAIL)
        await factories.make_active_patient(staff, practice=practice, first_name='Sam', email=LATE_EMAIL)
        return (await factories.make_spectacle_rx(patient)).id


async def _requests_and_links(url: str) -> tuple[list[str], int]:
    """Straight from PostgreSQL (not through the proxy): the appointment requests' reasons, and how many
    login links the late patient was sent."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        reasons = await AppointmentRequest.all().order_by('id').values_list('reason', flat=True)
        links = await OutboxMessage.filter(to_address=LATE_EMAIL, purpose='login_link').count()
        return list(reasons), links


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit('@', 1)
    host = f'127.0.0.1:{port}'
    return urlunsplit((parts.scheme, f'{netloc[0]}@{host}' if len(netloc) == 2 else host, *parts[2:]))


async def _sign_in_patient(context: BrowserContext, base_url: str, smtp_server: SmtpServer) -> Page:
    page = await context.new_page()
    await page.goto(base_url + '/login')
    await page.get_by_label('Email address').fill(PATIENT_EMAIL)
    await page.get_by_role('button', name='Email me a login link').click()
    await page.goto(link_in(await smtp_server.wait_for(PATIENT_EMAIL)))
    await page.get_by_role('button', name='Continue').click()
    await expect(page).to_have_url(re.compile(r'/prescriptions$'))
    await drawn(page)
    return page


async def _sign_in_staff(context: BrowserContext, base_url: str) -> Page:
    page = await context.new_page()
    await page.goto(base_url + '/staff/login')
    await page.get_by_label('Email').fill(STAFF_EMAIL)
    await page.get_by_label('Password').fill(factories.STAFF_PASSWORD)
    await page.get_by_role('button', name='Sign in').click()
    await expect(page).to_have_url(re.compile(r'/staff/?$'))
    return page


async def _send_request(page: Page, reason: str) -> None:
    await page.get_by_label('Reason for the visit').fill(reason)
    await page.get_by_role('button', name='Send request').click()


async def _shows_unavailable(page: Page, url: str) -> None:
    """A NiceGUI page during the cut: our words in the tree's frame, no traceback."""
    response = await page.goto(url)
    assert response is not None and response.status == 500  # NiceGUI's status for a page that failed to build
    await expect(page.get_by_text(UNAVAILABLE)).to_be_visible()
    content = await page.content()
    assert 'Traceback' not in content and 'asyncpg' not in content and 'ConnectionResetError' not in content


async def _plain(context: BrowserContext, url: str) -> tuple[int, str]:
    response = await context.request.get(url)
    return response.status, html.unescape(await response.text()) if response.status >= 400 else ''


async def test_with_the_database_cut_pages_say_try_again_and_recover_without_a_restart_losing_nothing(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
    require_chromium()
    expect.set_options(timeout=15_000)
    async with migrated_database_url(str(tmp_path)) as url:
        rx_id = await _seed(url)
        with ThreadedTcpProxy(POSTGRES_PORT) as proxy:
            env = {
                'PORTAL_DATA_DIR': str(tmp_path / 'data'),
                'PORTAL_DATABASE_URL': _through(url, proxy.port),
                'PORTAL_SECRET_KEY': secret_key,
                'PORTAL_SMTP_HOST': '127.0.0.1',
                'PORTAL_SMTP_PORT': str(smtp_server.port),
            }
            log = tmp_path / 'portal.log'
            with running_portal(env, log) as base_url:
                async with async_playwright() as playwright:
                    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                    try:
                        phone = await browser.new_context()
                        patient = await _sign_in_patient(phone, base_url, smtp_server)
                        desk = await _sign_in_staff(await browser.new_context(), base_url)
                        # Written before the cut: an appointment request, through the patient's open tab.
                        appointments = await phone.new_page()
                        await appointments.goto(base_url + '/appointments')
                        await drawn(appointments)
                        await _send_request(appointments, 'Before the cut')
                        await expect(appointments.get_by_text('Pending')).to_be_visible()
                        late = await (await browser.new_context()).new_page()  # the login form, loaded before
                        await late.goto(base_url + '/login')

                        proxy.cut()

                        # Pages: plain routes answer 503 with the words; NiceGUI pages show them in the frame.
                        for context, path in ((phone, f'/rx/{rx_id}.pdf'), (desk.context, f'/staff/rx/{rx_id}.pdf')):
                            status, text = await _plain(context, base_url + path)
                            assert status == 503 and UNAVAILABLE in text, path
                            assert 'Traceback' not in text and 'asyncpg' not in text, path
                        await _shows_unavailable(patient, base_url + '/prescriptions')
                        await _shows_unavailable(desk, base_url + '/staff/requests')

                        # Writes tried during the cut fail with the same words, and leave nothing behind.
                        await _send_request(appointments, 'During the cut')  # an open NiceGUI tab: a notification
                        await expect(appointments.get_by_text(UNAVAILABLE)).to_be_visible()
                        await late.get_by_label('Email address').fill(LATE_EMAIL)  # a plain form: the 503 page
                        await late.get_by_role('button', name='Email me a login link').click()
                        await expect(late.get_by_text(UNAVAILABLE)).to_be_visible()

                        proxy.restore()

                        # The same server (no restart) serves the same pages again.
                        await patient.get_by_role('link', name='Try again').click()
                        await expect(patient.get_by_text('Glasses prescription').first).to_be_visible()
                        await desk.goto(base_url + '/staff/requests')
                        await expect(desk.get_by_text('Before the cut').first).to_be_visible()
                        for context, path in ((phone, f'/rx/{rx_id}.pdf'), (desk.context, f'/staff/rx/{rx_id}.pdf')):
                            assert (await _plain(context, base_url + path))[0] == 200, path
                        assert await _requests_and_links(url) == (['Before the cut'], 0), 'the cut wrote nothing'

                        # What the cut refused goes through when tried again: the open tab's form kept its text.
                        await appointments.get_by_role('button', name='Send request').click()
                        await expect(appointments.locator('section', has_text='During the cut')).to_be_visible()
                    finally:
                        await browser.close()
            # The refused link request stays refused (the patient asks again: within the minute, the per-address
            # limit, which counted the attempt, says to wait, as the 503 page did).
            assert await _requests_and_links(url) == (['Before the cut', 'During the cut'], 0)
            assert log.read_text().count('Application startup complete') == 1, 'recovered without a restart'
