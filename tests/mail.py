"""A real SMTP server for tests: aiosmtpd on a free loopback port, with a wait-for-message helper."""

import asyncio
import email
import email.policy
import re
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from portal.devmail import _free_port

LINK = re.compile(r'https?://\S+/login/link/\S+')
CODE = re.compile(r'Type this code there instead: (\d{6})')


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return '250 OK queued as test'


class SmtpServer:
    def __init__(self) -> None:
        self.port = _free_port()
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

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self._collector.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if str(m['To']).lower() == address.lower()]

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
