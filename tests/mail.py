"""A real SMTP server for tests: aiosmtpd on a free loopback port, with a wait-for-message helper."""

import asyncio
import email
import email.policy
import re
import ssl
import time
from email.message import EmailMessage

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from portal.devmail import _free_port

LINK = re.compile(r'https?://\S+/login/link/\S+')
CODE = re.compile(r'Type this code there instead: (\d{6})')


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.by_recipient: dict[str, list[EmailMessage]] = {}  # parsed once: the load benchmark waits on 50 at once
        self.refused: set[str] = set()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.refused:
            return f'550 5.1.1 <{address}>: mailbox unavailable'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.by_recipient.setdefault(str(message['To']).lower(), []).append(message)
        self.messages.append(message)
        return '250 OK queued as test'


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        """On a free port, or on `port` (a server coming back where the portal expects it)."""
        self.port = port or _free_port()
        self._collector = _Collector()
        self._controller = Controller(self._collector, hostname='127.0.0.1', port=self.port)
        self.running = False

    def start(self) -> None:
        self._controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._controller.stop()
            self.running = False

    def refuse(self, address: str) -> None:
        """Answer RCPT TO for this address with a permanent 550, like a mailbox that does not exist."""
        self._collector.refused.add(address.lower())

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self._collector.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return list(self._collector.by_recipient.get(address.lower(), ()))

    async def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> EmailMessage:
        """The newest message to `address`, once at least `count` have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(found := self.to(address)) >= count:
                return found[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f'no message #{count} to {address} within {timeout} s')

    def wait_for_sync(self, address: str, count: int = 1, timeout: float = 20.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(found := self.to(address)) >= count:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f'no message #{count} to {address} within {timeout} s')


def body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=('plain',)).get_content()


def link_in(message: EmailMessage) -> str:
    return LINK.search(body(message)).group(0)


def code_in(message: EmailMessage) -> str:
    return CODE.search(body(message)).group(1)


LOCAL_NAMES = ('localhost', '127.0.0.1')


class TlsSmtpServer(SmtpServer):
    """A mail server like a provider's: TLS with a certificate from `ca` (STARTTLS or implicit TLS,
    as on ports 587 and 465) and a login that must match `username`/`password` before mail is taken."""

    def __init__(
        self, ca: trustme.CA, mode: str, username: str, password: str, names: tuple[str, ...] = LOCAL_NAMES
    ) -> None:
        self.port = _free_port()
        self._collector = _Collector()
        self.logins: list[str] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(context)

        expected = LoginPassword(username.encode(), password.encode())

        def authenticate(_server: SMTP, _session: Session, _envelope: Envelope, _mech: str, data: object) -> AuthResult:
            ok = data == expected
            if ok:
                self.logins.append(username)
            return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535

        tls = {'tls_context': context, 'require_starttls': True} if mode == 'starttls' else {'ssl_context': context}
        self._controller = Controller(
            self._collector,
            hostname='127.0.0.1',
            port=self.port,
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=mode == 'starttls',  # implicit TLS is encrypted from the first byte
            **tls,
        )
        self.running = False
