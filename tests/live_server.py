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

import pytest

from portal.devmail import _free_port

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
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_', 'PORTAL_'))}
    full_env = {**inherited, **env, 'PORTAL_PORT': str(port), 'PORTAL_BASE_URL': base_url}
    with open(log_path, 'wb') as log:
        process = subprocess.Popen([sys.executable, 'main.py'], cwd=ROOT, env=full_env, stdout=log, stderr=log)
        try:
            _wait_until_up(base_url + '/login', process, log_path)
            yield base_url
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
            raise AssertionError(f'the portal exited early:\n{log_path.read_text()[-3000:]}')
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise AssertionError(f'the portal did not answer within {timeout} s:\n{log_path.read_text()[-3000:]}')
