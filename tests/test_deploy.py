"""The production recipe, run for real: Debian's nginx with `deploy/nginx/eyecare-portal.conf` in front of
two instances started as `deploy/systemd/eyecare-portal@.service` starts them, on PostgreSQL and Redis,
and the login journey in headless Chromium through the proxy.

It runs in the PostgreSQL pass of the suite only (skipped, with the reason, on SQLite), so CI runs it once.
"""

import os
import re
import shutil
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect
from tortoise.context import TortoiseContext

from models.audit import AuditEvent
from portal.db import apply_migrations, tortoise_config
from portal.devmail import _free_port
from tests import factories
from tests.databases import PG_URL, fresh_database_url
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, ROOT, require_chromium, running_process
from tests.mail import SmtpServer, link_in

pytestmark = [pytest.mark.browser, pytest.mark.deploy]

NGINX = shutil.which('nginx') or '/usr/sbin/nginx'
SITE = ROOT / 'deploy' / 'nginx' / 'eyecare-portal.conf'
UNIT = ROOT / 'deploy' / 'systemd' / 'eyecare-portal@.service'
REDIS_URL = 'redis://127.0.0.1:6379'
SPOOFED = '203.0.113.99'


def require_nginx_and_postgres() -> None:
    if not PG_URL:
        pytest.skip('the deployment runs on PostgreSQL: set PORTAL_TEST_DATABASE_URL (the second pass of .ci/run)')
    if not Path(NGINX).exists():
        if os.environ.get('CI') == 'true':
            pytest.fail('nginx is not installed, and CI=true: .ci/run must install Debian nginx')
        pytest.skip('nginx is not installed (apt-get install nginx)')


def unit_service(port: int, state_dir: Path, shared_env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command and environment the systemd unit gives instance `port`, with this checkout and a
    temporary state directory standing in for /opt/eyecare-portal and /var/lib/eyecare-portal."""
    text = UNIT.read_text().replace('%i', str(port))
    text = text.replace('/opt/eyecare-portal', str(ROOT)).replace('/var/lib/eyecare-portal', str(state_dir))
    settings = dict(re.findall(r'^Environment=(\w+)=(.*)$', text, flags=re.M))
    [exec_start] = re.findall(r'^ExecStart=(.*)$', text, flags=re.M)
    [workdir] = re.findall(r'^WorkingDirectory=(.*)$', text, flags=re.M)
    assert Path(workdir) == ROOT
    python, *args = exec_start.split()
    assert python == f'{ROOT}/.venv/bin/python' and args == ['main.py']
    Path(settings['PORTAL_DATA_DIR']).mkdir(parents=True)  # systemd's StateDirectory=
    return [sys.executable, *args], {**shared_env, **settings}  # unit lines win, as after EnvironmentFile=


def nginx_config(tmp_path: Path, listen_port: int, instance_ports: list[int]) -> Path:
    """The shipped site file, listening on a free loopback port and pointing at this test's instances,
    inside a minimal main configuration (Debian's would also load sites-enabled/default on port 80)."""
    site = SITE.read_text()
    site = re.sub(r'^\s*listen \[::\]:80;\n', '', site, flags=re.M)
    site = site.replace('listen 80;', f'listen 127.0.0.1:{listen_port};')
    upstreams = ''.join(f'    server 127.0.0.1:{port};\n' for port in instance_ports)
    site, replaced = re.subn(r'(    server 127\.0\.0\.1:\d+;\n)+', upstreams, site)
    assert replaced == 1
    (tmp_path / 'site.conf').write_text(site)
    temp = {name: tmp_path / name for name in ('client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi')}
    main = tmp_path / 'nginx.conf'
    main.write_text(
        ('user root;\n' if os.geteuid() == 0 else '')
        + f'worker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/nginx-error.log warn;\n'
        + 'daemon off;\nevents { worker_connections 256; }\nhttp {\n    include /etc/nginx/mime.types;\n'
        + '    log_format routed \'$cookie_portal_route $upstream_addr $status "$request"\';\n'
        + f'    access_log {tmp_path}/nginx-access.log routed;\n'
        + ''.join(f'    {name}_temp_path {path};\n' for name, path in temp.items())
        + f'    include {tmp_path / "site.conf"};\n}}\n'
    )
    return main


@contextmanager
def deployment(tmp_path: Path, shared_env: dict[str, str]) -> Iterator[str]:
    """Two instances and nginx in front of them; yields the proxy's URL."""
    ports, listen_port = [_free_port(), _free_port()], _free_port()
    proxy_url = f'http://127.0.0.1:{listen_port}'
    config = nginx_config(tmp_path, listen_port, ports)
    checked = nginx_test(config)
    assert 'syntax is ok' in checked and 'test is successful' in checked, checked
    with ExitStack() as stack:
        for port in ports:
            command, env = unit_service(port, tmp_path / 'state', {**shared_env, 'PORTAL_BASE_URL': proxy_url})
            log = tmp_path / f'instance-{port}.log'
            stack.enter_context(running_process(command, env, f'http://127.0.0.1:{port}/login', log))
        stack.enter_context(running_process([NGINX, '-c', str(config)], {}, proxy_url + '/login', tmp_path / 'nx.log'))
        yield proxy_url


def nginx_test(config: Path) -> str:
    """`nginx -t`: what an operator runs before reloading."""
    done = subprocess.run([NGINX, '-t', '-c', str(config)], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout + done.stderr


async def _seed(url: str, email: str) -> None:
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        practice = await factories.make_practice(name='Harborview Eye Care')
        provider = await factories.make_provider(practice, name='Morgan Ellery')
        await factories.make_staff(email='frontdesk@example.org', name='Robin Desk')
        patient = await factories.make_patient(practice, first_name='Avery', last_name='Lindqvist', email=email)
        await factories.make_spectacle_rx(patient, provider)
        await factories.make_appointment(patient, in_days=10, reason='Contact lens fitting')
        await factories.make_invoice(patient, [('Comprehensive eye exam', 18500)], paid_cents=5000, number='INV-D-1')


async def _client_addresses(url: str) -> set[str]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        return set(await AuditEvent.all().values_list('client_address', flat=True))


def _routes(access_log: Path) -> dict:
    """Which instance each browser (by its `portal_route` cookie) reached, from nginx's access log."""
    lines = access_log.read_text().splitlines()
    by_cookie: dict[str, set[str]] = {}
    for line in lines:
        cookie, upstream, _ = line.split(' ', 2)
        if cookie != '-' and upstream != '-':
            by_cookie.setdefault(cookie, set()).add(upstream)
    return {'lines': lines, 'by_cookie': by_cookie}


async def _staff_enables_portal(page: Page, proxy_url: str) -> None:
    await page.goto(proxy_url + '/staff')
    await page.get_by_label('Email').fill('frontdesk@example.org')
    await page.get_by_label('Password').fill(factories.STAFF_PASSWORD)
    await page.get_by_role('button', name='Sign in').click()
    await expect(page).to_have_url(re.compile(r'/staff/?$'))
    await page.get_by_label('Find a patient').fill('Lindqvist')
    await page.get_by_role('link', name=re.compile('Lindqvist')).first.click()
    await page.get_by_role('button', name='Patient actions').click()
    await page.locator('.q-menu').get_by_text('Enable Patient Portal').click()
    await expect(page.get_by_text(re.compile(r'^Active$')).first).to_be_visible()


async def test_two_instances_behind_nginx_serve_the_whole_login_journey_over_websockets(
    tmp_path: Path, smtp_server: SmtpServer, secret_key: str
):
    require_nginx_and_postgres()
    require_chromium()
    email = f'avery.{uuid.uuid4().hex[:8]}@example.com'  # Redis outlives the test: a fresh address each run
    async with fresh_database_url(str(tmp_path)) as url:
        await _seed(url, email)
        shared = {
            'PORTAL_DATABASE_URL': url,
            'PORTAL_REDIS_URL': REDIS_URL,
            'PORTAL_SECRET_KEY': secret_key,
            'PORTAL_SMTP_HOST': '127.0.0.1',
            'PORTAL_SMTP_PORT': str(smtp_server.port),
        }
        with deployment(tmp_path, shared) as proxy_url:
            for _ in range(16):  # new visitors, no cookie yet: spread over both instances
                with urllib.request.urlopen(proxy_url + '/login', timeout=30) as response:
                    assert any(c.startswith('portal_route=') for c in response.headers.get_all('Set-Cookie'))
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    staff = await browser.new_context()
                    await _staff_enables_portal(await staff.new_page(), proxy_url)

                    # A visitor who sends their own X-Forwarded-For must not be believed.
                    phone = await browser.new_context(
                        viewport={'width': 390, 'height': 844}, extra_http_headers={'X-Forwarded-For': SPOOFED}
                    )
                    page = await phone.new_page()
                    await page.goto(proxy_url + '/login')
                    await page.get_by_label('Email address').fill(email)
                    await page.get_by_role('button', name='Email me a login link').click()
                    await expect(page.get_by_text('Check your email').first).to_be_visible()
                    link = link_in(await smtp_server.wait_for(email))
                    assert link.startswith(proxy_url + '/login/link/')  # links name the public address
                    await page.goto(link)
                    await page.get_by_role('button', name='Continue').click()
                    await expect(page).to_have_url(re.compile(r'/prescriptions$'))
                    await expect(page.get_by_text('Morgan Ellery').first).to_be_visible()
                    await page.get_by_role('link', name='Appointments').click()
                    await expect(page.get_by_text('Contact lens fitting').first).to_be_visible()
                    await page.get_by_role('link', name='Billing').click()
                    await expect(page.get_by_text('INV-D-1').first).to_be_visible()

                    cookies = {c['name'] for c in await phone.cookies()}
                    assert 'portal_route' in cookies  # the proxy's sticky-session key
                finally:
                    await browser.close()
        routed = _routes(tmp_path / 'nginx-access.log')
        assert any(' 101 ' in line and 'transport=websocket' in line for line in routed['lines'])  # websockets
        assert len(routed['by_cookie']) >= 2  # the staff browser and the phone
        assert len({line.split(' ')[1] for line in routed['lines']}) == 2  # both instances served visitors
        for route, upstreams in routed['by_cookie'].items():
            assert len(upstreams) == 1, f'browser {route} reached {upstreams}: sessions are not sticky'
        addresses = await _client_addresses(url)
        assert SPOOFED not in addresses
        assert '127.0.0.1' in addresses  # the proxy's view of the client, passed on and trusted
