"""The built-in dev mailbox: a real SMTP server (aiosmtpd) on loopback that keeps what it receives.

Used when no PORTAL_SMTP_HOST is set, so the demo sends real mail through the real outbox path and
a person can read it at /dev/mailbox. Messages are kept as .eml files in the data dir.
"""

import email
import email.policy
import logging
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)
STAMP = '%Y%m%dT%H%M%S%f'


@dataclass(frozen=True)
class MailboxMessage:
    id: str
    received_at: datetime
    sender: str
    to: str
    subject: str
    body: str


class _Handler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        # the timestamp orders the files; the suffix keeps two messages in the same microsecond apart
        name = f'{datetime.now(UTC).strftime(STAMP)}-{secrets.token_hex(3)}'
        content = envelope.original_content or envelope.content
        (self.folder / f'{name}.eml').write_bytes(content if isinstance(content, bytes) else content.encode())
        return f'250 Message accepted for delivery (dev mailbox {name})'


class DevMailbox:
    def __init__(self, folder: Path, port: int = 0) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or _free_port()
        self._controller = Controller(_Handler(self.folder), hostname='127.0.0.1', port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def _files(self) -> list[Path]:
        return sorted(self.folder.glob('*.eml'), reverse=True)

    def latest_id(self) -> str:
        """The newest message's id ('' when empty): a cheap way for a page to notice new mail."""
        files = self._files()
        return files[0].stem if files else ''

    def count(self) -> int:
        return len(self._files())

    def clear(self) -> int:
        files = self._files()
        for path in files:
            path.unlink(missing_ok=True)
        return len(files)

    def messages(self, limit: int = 50) -> list[MailboxMessage]:
        """Newest first. A file that cannot be read is skipped, not allowed to break the page."""
        result = []
        for path in self._files()[:limit]:
            try:
                result.append(_parse(path))
            except (OSError, ValueError, LookupError) as error:
                log.warning('dev mailbox: skipped unreadable %s (%s)', path.name, error)
        return result


def _parse(path: Path) -> MailboxMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    part = parsed.get_body(preferencelist=('plain', 'html'))
    return MailboxMessage(
        id=path.stem,
        received_at=datetime.strptime(path.stem.split('-')[0], STAMP).replace(tzinfo=UTC),
        sender=str(parsed['From'] or ''),
        to=str(parsed['To'] or ''),
        subject=str(parsed['Subject'] or ''),
        body=part.get_content() if part else '',
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
