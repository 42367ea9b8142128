"""One secret, separate keys: a login link signed with the cookie key (or the bare secret) is refused and
the session cookie verifies only under its own key. NiceGUI's user storage, which references sessions,
lives in the data directory, readable by the portal's user only."""

import os
import stat
from pathlib import Path

import jwt
import pytest
from itsdangerous import BadSignature, TimestampSigner
from nicegui.storage import Storage
from nicegui.testing import User

from portal import keys
from services import magic_link
from services.magic_link import LinkUnusable
from tests import factories
from tests.conftest import TEST_BASE_URL
from tests.mail import SmtpServer, link_in
from tests.portal_user import sign_in, wait_until


def test_each_use_gets_its_own_key_and_none_is_the_secret():
    secret = 'x' * 48
    link, cookie = keys.link_key(secret), keys.cookie_key(secret)

    assert len({secret, link, cookie, keys.csrf_key(secret)}) == 4
    assert len(link) == len(cookie) == 64
    assert keys.link_key(secret) == link  # the same on every instance that shares the secret
    assert keys.link_key('y' * 48) != link


async def test_a_login_link_signed_with_the_cookie_key_or_the_bare_secret_is_refused(
    user: User, smtp_server: SmtpServer, secret_key: str
):
    patient = await factories.make_active_patient()
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    token = link_in(await smtp_server.wait_for(patient.email)).removeprefix(TEST_BASE_URL + magic_link.LINK_PATH)
    claims = jwt.decode(token, options={'verify_signature': False})

    for key in (keys.cookie_key(secret_key), secret_key):
        with pytest.raises(LinkUnusable) as refused:
            await magic_link.check_link(jwt.encode(claims, key, algorithm='HS256'))
        assert refused.value.reason == 'invalid'
    await magic_link.check_link(token)  # the real one, signed with the link key, still works


async def test_the_session_cookie_verifies_only_under_the_cookie_key(user: User, secret_key: str):
    response = await user.http_client.get('/login')
    value = response.cookies['session']

    TimestampSigner(keys.cookie_key(secret_key)).unsign(value)
    for other in (secret_key, keys.link_key(secret_key)):
        with pytest.raises(BadSignature):
            TimestampSigner(other).unsign(value)


async def test_user_storage_lives_in_the_data_directory_for_the_owner_only(
    user: User, smtp_server: SmtpServer, tmp_path: Path
):
    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)
    storage = tmp_path / 'data' / 'nicegui'

    assert Storage.path == storage.resolve()
    assert stat.S_IMODE(os.stat(storage).st_mode) == 0o700

    async def written() -> bool:
        return any(storage.glob('storage-user-*.json'))

    await wait_until(written, timeout=15)  # this patient's session reference, in the data directory
