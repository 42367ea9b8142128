"""Fixtures: a real SMTP server, a database per test, configured services, and the app for page tests."""

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nicegui.testing.general_fixtures import get_path_to_main_file
from nicegui.testing.user import User
from nicegui.testing.user_simulation import user_simulation

from models import MODEL_MODULES
from portal import keys
from services import events, magic_link, outbox, sessions, staff_totp, throttle
from services.transports import TwilioTransport
from tests.databases import drop_migrated_template, migrated_database_url, service_context
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.mail import SmtpServer

TEST_BASE_URL = 'http://portal.test'


def pytest_sessionfinish(session: pytest.Session) -> None:
    asyncio.run(drop_migrated_template())


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A local server answering like Twilio's Messages API."""
    server = FakeTwilio()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sms(db: object, smtp_server: SmtpServer, fake_twilio: FakeTwilio) -> FakeTwilio:
    """Service tests with an SMS provider: the outbox texts through Twilio's library to the fake server."""
    outbox.configure(
        outbox.SmtpTransport(host='127.0.0.1', port=smtp_server.port, mail_from='portal@test'),
        sms=TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, api_url=fake_twilio.url),
    )
    return fake_twilio


@pytest.fixture
def secret_key() -> str:
    """The app secret of the test; the TOTP key derived from it seals the factories' administrators' secret,
    so a portal started with it (a page test, a live server) reads them."""
    key = secrets.token_urlsafe(48)
    staff_totp.configure(keys.totp_key(key))
    return key


@pytest.fixture
async def db(smtp_server: SmtpServer, secret_key: str) -> AsyncIterator[object]:
    """Service tests: an isolated database and services wired to the test SMTP server."""
    magic_link.configure(magic_link.LinkSettings(secret=secret_key, base_url=TEST_BASE_URL, valid_minutes=15))
    outbox.configure(outbox.SmtpTransport(host='127.0.0.1', port=smtp_server.port, mail_from='portal@test'))
    sessions.configure(idle_minutes=30, absolute_hours=12)
    staff_totp.configure(keys.totp_key(secret_key))
    throttle.configure(None)
    events.configure(None)  # no subscriber of an earlier test hears this one's events
    async with service_context(MODEL_MODULES) as ctx:
        yield ctx
        await outbox.wait_for_pending()


@pytest.fixture
async def app_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer, secret_key: str
) -> AsyncIterator[str]:
    """Environment for a whole app (page tests): its own data dir, database and the test SMTP server."""
    async with migrated_database_url(str(tmp_path)) as url:
        monkeypatch.setenv('PORTAL_DATA_DIR', str(tmp_path / 'data'))
        monkeypatch.setenv('PORTAL_DATABASE_URL', url)
        monkeypatch.setenv('PORTAL_SECRET_KEY', secret_key)
        monkeypatch.setenv('PORTAL_BASE_URL', TEST_BASE_URL)
        monkeypatch.setenv('PORTAL_SMTP_HOST', '127.0.0.1')
        monkeypatch.setenv('PORTAL_SMTP_PORT', str(smtp_server.port))
        monkeypatch.delenv('PORTAL_DEMO', raising=False)
        monkeypatch.delenv('PORTAL_REDIS_URL', raising=False)
        monkeypatch.delenv('PORTAL_SMS_PROVIDER', raising=False)
        yield url


@pytest.fixture
async def user(app_env: str, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest) -> AsyncIterator[User]:
    """NiceGUI's `user` fixture, started only after `app_env` has pointed the app at test peers; it also reads
    the server-rendered entry pages (`tests.portal_user`)."""
    from tests.portal_user import read_plain_pages  # imports this module: not at the top

    async with user_simulation(main_file=get_path_to_main_file(request)) as simulated:
        yield read_plain_pages(simulated)
        await outbox.wait_for_pending()
        errors = [r for r in caplog.get_records('call') if r.levelname == 'ERROR']
        if errors:
            pytest.fail(f'There were unexpected ERROR logs: {[r.getMessage() for r in errors]}', pytrace=False)
    _forget_page_modules()


def _forget_page_modules() -> None:
    """After a page test NiceGUI forgets the modules that define pages, and with them the tree packages, so the
    next test builds fresh routers; a module of the tree that only adds plain routes (the staff Rx PDF) would stay
    imported, its routes left on the old router and missing from every later test's app. Forget them all."""
    for name in [name for name in sys.modules if name == 'pages' or name.startswith('pages.')]:
        sys.modules.pop(name, None)
