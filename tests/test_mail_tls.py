"""The production mail path against a real TLS mail server (aiosmtpd, a certificate made for the test,
a login required): what works is delivered, and what is misconfigured is said in an operator's words."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from models.outbox import OutboxMessage
from portal.config import Settings
from services import outbox
from tests.mail import TlsSmtpServer, body

pytestmark = pytest.mark.filterwarnings('ignore:Requiring AUTH while not requiring TLS')  # implicit TLS is TLS

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = 'portal@harborview-eye.example', 'correct horse battery staple'


@pytest.fixture(scope='module')
def ca() -> trustme.CA:
    """A private certificate authority, like a practice's own or its IT provider's."""
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / 'practice-ca.pem'
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(params=['starttls', 'tls'])
def tls_server(request: pytest.FixtureRequest, ca: trustme.CA) -> Iterator[TlsSmtpServer]:
    server = TlsSmtpServer(ca, request.param, USER, PASSWORD)
    server.start()
    yield server
    server.stop()


def transport(server: TlsSmtpServer, security: str, **fields: str | None) -> outbox.SmtpTransport:
    values = {'username': USER, 'password': PASSWORD, 'ca_file': None, **fields}
    return outbox.SmtpTransport(
        host='127.0.0.1', port=server.port, mail_from='portal@harborview-eye.example', security=security, **values
    )


def security_of(server: TlsSmtpServer) -> str:
    return 'starttls' if server._controller.SMTP_kwargs.get('require_starttls') else 'tls'


async def test_mail_goes_out_over_tls_with_a_login_to_a_server_whose_ca_is_configured(tls_server, ca_file):
    smtp = transport(tls_server, security_of(tls_server), ca_file=ca_file)
    reply = await outbox.send_email(smtp, to='pat@example.com', subject='Hello', body='Over TLS.')
    assert reply.startswith('OK queued as test')
    assert tls_server.logins == [USER]
    assert body(await tls_server.wait_for('pat@example.com')).strip() == 'Over TLS.'


async def test_a_wrong_password_is_reported_as_a_refused_login(tls_server, ca_file):
    smtp = transport(tls_server, security_of(tls_server), ca_file=ca_file, password='wrong')
    with pytest.raises(Exception) as error:
        await outbox.send_email(smtp, to='pat@example.com', subject='Hello', body='x')
    problem = outbox.describe_failure(error.value, smtp)
    assert f'The mail server at 127.0.0.1:{tls_server.port} refused the username or password (535' in problem
    assert 'Check PORTAL_SMTP_USERNAME and PORTAL_SMTP_PASSWORD.' in problem
    assert tls_server.messages == []


async def test_an_untrusted_certificate_is_reported_with_the_setting_that_trusts_a_private_ca(tls_server):
    smtp = transport(tls_server, security_of(tls_server))  # the system's CAs only
    with pytest.raises(Exception) as error:
        await outbox.send_email(smtp, to='pat@example.com', subject='Hello', body='x')
    problem = outbox.describe_failure(error.value, smtp)
    assert f"The mail server's certificate at 127.0.0.1:{tls_server.port} is not trusted (" in problem
    assert 'set PORTAL_SMTP_CA_FILE to that authority' in problem
    assert tls_server.logins == [] and tls_server.messages == []  # the password never left this machine


async def test_a_certificate_for_another_name_says_which_name_to_use(ca, ca_file):
    server = TlsSmtpServer(ca, 'tls', USER, PASSWORD, names=('mail.elsewhere.example',))
    server.start()
    try:
        smtp = transport(server, 'tls', ca_file=ca_file)
        with pytest.raises(Exception) as error:
            await outbox.send_email(smtp, to='pat@example.com', subject='Hello', body='x')
        problem = outbox.describe_failure(error.value, smtp)
    finally:
        server.stop()
    assert "The mail server's certificate does not name 127.0.0.1" in problem
    assert 'Set PORTAL_SMTP_HOST to the name on the certificate.' in problem


async def test_staff_see_the_operators_sentence_on_a_message_that_failed(db, ca, ca_file):
    server = TlsSmtpServer(ca, 'starttls', USER, PASSWORD)
    server.start()
    try:
        outbox.configure(transport(server, 'starttls', ca_file=ca_file, password='expired'))
        message = await outbox.enqueue_email(to='pat@example.com', subject='Hi', body='x', purpose='test')
        await outbox.deliver(message.id)
    finally:
        server.stop()
    stored = await OutboxMessage.get(id=message.id)
    assert stored.status == 'queued'  # retried later with backoff
    assert stored.last_error.startswith('The mail server at 127.0.0.1:')
    assert 'refused the username or password' in stored.last_error


def test_the_usual_port_follows_the_security_setting(tmp_path):
    ports = {
        security: Settings(data_dir=tmp_path, smtp_security=security).smtp_port_or_default
        for security in ('none', 'starttls', 'tls')
    }
    assert ports == {'none': 25, 'starttls': 587, 'tls': 465}
    assert Settings(data_dir=tmp_path, smtp_security='tls', smtp_port=2465).smtp_port_or_default == 2465


def test_a_missing_ca_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ValueError, match='PORTAL_SMTP_CA_FILE names .*, which is not a readable file'):
        Settings(data_dir=tmp_path, smtp_ca_file=tmp_path / 'nope.pem')


def check_mail(tmp_path: Path, server: TlsSmtpServer, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(('PORTAL_', 'NICEGUI_'))}
    clean.update(
        PORTAL_DATA_DIR=str(tmp_path / 'data'),
        PORTAL_SMTP_HOST='127.0.0.1',
        PORTAL_SMTP_PORT=str(server.port),
        PORTAL_SMTP_USERNAME=USER,
        PORTAL_MAIL_FROM='portal@harborview-eye.example',
        **env,
    )
    return subprocess.run(
        [sys.executable, 'main.py', 'check-mail', '--to', 'office@harborview-eye.example'],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_mail_sends_a_test_message_and_prints_the_servers_answer(tmp_path, ca, ca_file):
    server = TlsSmtpServer(ca, 'tls', USER, PASSWORD)
    server.start()
    try:
        good = check_mail(
            tmp_path, server, PORTAL_SMTP_SECURITY='tls', PORTAL_SMTP_PASSWORD=PASSWORD, PORTAL_SMTP_CA_FILE=ca_file
        )
        bad = check_mail(tmp_path, server, PORTAL_SMTP_SECURITY='tls', PORTAL_SMTP_PASSWORD='wrong')
    finally:
        server.stop()
    assert good.returncode == 0, good.stderr
    assert f'through 127.0.0.1:{server.port} (tls as {USER})' in good.stdout
    assert 'The mail server accepted it and answered: OK queued as test' in good.stdout
    [sent] = server.to('office@harborview-eye.example')
    assert 'the portal can email login links' in body(sent)

    assert bad.returncode == 1
    assert bad.stderr.startswith("Not sent. The mail server's certificate at 127.0.0.1:")
    assert 'PORTAL_SMTP_CA_FILE' in bad.stderr and 'Traceback' not in bad.stderr


@pytest.mark.parametrize(
    ('server_mode', 'security', 'expected'),
    [
        ('starttls', 'tls', '(WRONG_VERSION_NUMBER). Port 465 usually needs PORTAL_SMTP_SECURITY=tls'),
        ('tls', 'starttls', 'did not greet in plain text, so it probably expects TLS from the first byte'),
        ('starttls', 'none', 'offers no way to log in on this connection'),
    ],
)
async def test_a_security_setting_that_does_not_match_the_port_says_which_to_use(
    ca, ca_file, server_mode, security, expected
):
    server = TlsSmtpServer(ca, server_mode, USER, PASSWORD)
    server.start()
    try:
        smtp = outbox.SmtpTransport(**{**transport(server, security, ca_file=ca_file).__dict__, 'timeout': 3.0})
        with pytest.raises(Exception) as error:
            await outbox.send_email(smtp, to='pat@example.com', subject='Hello', body='x')
    finally:
        server.stop()
    assert expected in outbox.describe_failure(error.value, smtp)
    assert server.logins == []
