"""A real running portal (`python main.py` in a subprocess) and headless Chromium, for end-to-end tests."""

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from portal.devmail import _free_port
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
]


async def fill_staff_sign_in(
    page: Page,
    email: str,
    password: str = factories.STAFF_PASSWORD,
    totp_secret: str | None = factories.ADMIN_TOTP_SECRET,
) -> None:
    """THE way a browser test signs staff in, on the open sign-in form: email, password, then for a member with
    two-step sign-in (every factory-made administrator: `totp_secret`) the code their app shows now.
    `totp_secret=None` for front-desk members and demo accounts (which skip it)."""
    await page.get_by_label('Email').fill(email)
    await page.get_by_label('Password').fill(password)
    await page.get_by_role('button', name='Sign in').click()
    if totp_secret:
        code = page.get_by_label('Code', exact=True)
        try:
            await code.wait_for(state='visible')
        except PlaywrightTimeoutError:  # say what the form said instead (seen once, on a loaded machine)
            said = await page.get_by_role('alert').all_inner_texts()
            raise AssertionError(f'the code step did not show after the password; the form says {said}') from None
        await code.fill(pyotp.TOTP(totp_secret).now())
        await page.get_by_role('button', name='Sign in').click()


async def drawn(page: Page) -> None:
    """Wait until NiceGUI has drawn the patient page just opened. Until then the browser shows the server's
    copy of it (`pages.patient.prepaint`): the same words, and buttons that don't act yet."""
    # The URL changes before the new document is parsed: without waiting for it, the copy's absence could be
    # seen on the page being left, and the copy would then appear beside NiceGUI's drawing of the same words.
    await page.wait_for_load_state('domcontentloaded')
    if await page.locator('#app').count():  # a NiceGUI page (not a plain entry page such as /login)
        await expect(page.locator('#app > *').first).to_be_attached()
    await expect(page.locator('#pp-prepaint')).to_have_count(0)


def require_chromium() -> None:
    """Browser tests skip without Chromium on a developer machine, but never on CI."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get('CI') == 'true':
        pytest.fail('Chromium is not installed, and CI=true: .ci/run must install Debian chromium')
    pytest.skip('Chromium is not installed (apt-get install chromium chromium-driver)')


@contextmanager
def running_portal(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Start the app with `env` added to ours; yield its base URL once it answers; stop it afterwards."""
    port = _free_port()
    base_url = f'http://127.0.0.1:{port}'
    env = {**env, 'PORTAL_PORT': str(port), 'PORTAL_BASE_URL': base_url}
    with running_process([sys.executable, 'main.py'], env, base_url + '/login', log_path):
        yield base_url


@contextmanager
def running_process(args: list[str], env: dict[str, str], ready_url: str, log_path: Path) -> Iterator[subprocess.Popen]:
    """A server process with our environment less pytest's, NiceGUI's and the portal's own variables (under
    PYTEST_CURRENT_TEST NiceGUI would start in screen-test mode), plus `env`; yielded once `ready_url` answers."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_', 'PORTAL_'))}
    with open(log_path, 'wb') as log:
        process = subprocess.Popen(args, cwd=ROOT, env={**inherited, **env}, stdout=log, stderr=log)
        try:
            _wait_until_up(ready_url, process, log_path)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f'{process.args} exited early:\n{log_path.read_text()[-3000:]}')
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise AssertionError(f'{url} did not answer within {timeout} s:\n{log_path.read_text()[-3000:]}')
