"""Behind https (by PORTAL_BASE_URL): HSTS on every response and a `Secure` session cookie."""

from collections.abc import AsyncIterator

import pytest
from nicegui.testing import User


@pytest.fixture
async def app_env(app_env: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    monkeypatch.setenv('PORTAL_BASE_URL', 'https://portal.example.org')
    yield app_env


async def test_behind_https_the_session_cookie_is_secure_and_hsts_is_sent(user: User):
    response = await user.http_client.get('/staff/login')

    assert response.headers['strict-transport-security'] == 'max-age=31536000'
    cookie = response.headers['set-cookie'].lower()
    assert cookie.startswith('session=') and '; secure' in cookie and 'httponly' in cookie
