"""The outbox: every email and text is a row first, then sent; failures are retried with backoff.

Delivery claims a row with an atomic update before sending, so several app instances sharing one
database never send the same message twice.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
from tortoise.expressions import Q

from models.outbox import OutboxMessage
from models.patient import Patient
from services import events

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120
SMS_LOG_REPLY = 'No SMS provider is configured: the text was written to the server log, not sent to a phone.'
# Messages whose body carries a login link: a credential, kept no longer than needed.
LINK_PURPOSES = ('login_link', 'invitation')
REDACTED_BODY = '(The login link in this message was removed after delivery.)'


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    mail_from: str
    username: str | None = None
    password: str | None = None
    security: str = 'none'  # none | starttls | tls
    timeout: float = 15.0


_transport: SmtpTransport | None = None
_pending: set[asyncio.Task] = set()


def configure(transport: SmtpTransport) -> None:
    global _transport
    _transport = transport


def transport() -> SmtpTransport:
    if _transport is None:
        raise RuntimeError('outbox.configure() was not called')
    return _transport


def now() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


async def enqueue_email(
    *,
    to: str,
    subject: str,
    body: str,
    purpose: str,
    patient: Patient | None = None,
    expires_at: datetime | None = None,
) -> OutboxMessage:
    """Queue a message. Often called inside the caller's transaction, so the caller publishes the
    `messages` event once it commits (or the delivery attempt that follows does)."""
    return await OutboxMessage.create(
        channel='email',
        purpose=purpose,
        patient=patient,
        to_address=to,
        subject=subject,
        body=body,
        expires_at=expires_at,
        next_attempt_at=now(),
    )


async def enqueue_text(*, to: str, body: str, purpose: str, patient: Patient | None = None) -> OutboxMessage:
    return await OutboxMessage.create(
        channel='sms', purpose=purpose, patient=patient, to_address=to, body=body, next_attempt_at=now()
    )


def deliver_soon(message_id: int) -> None:
    """Send in the background so the caller answers at once (and in the same time for every address)."""
    task = asyncio.create_task(deliver(message_id))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def deliver(message_id: int) -> OutboxMessage | None:
    """Try to send one message now. Returns the row as left, or None if it is sent, failed or held by
    another worker.

    The claim is one atomic update to `sending` with a deadline: a second worker (or a double click on
    Resend) finds nothing to claim, and a worker that dies mid-send leaves a claim that `retry_due`
    takes over once the deadline has passed. A queued message is sent at once even during its backoff.
    """
    claimed = await OutboxMessage.filter(
        Q(status='queued') | Q(status='sending', next_attempt_at__lte=now()), id=message_id
    ).update(status='sending', next_attempt_at=now() + timedelta(seconds=CLAIM_SECONDS))
    if not claimed:
        return None
    message = await OutboxMessage.get(id=message_id)
    if message.expires_at and message.expires_at <= now():
        return await _finish(message, status='failed', error='Expired before it could be delivered.')
    try:
        reply = await _send(message)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        message.attempts += 1
        failed = message.attempts >= MAX_ATTEMPTS
        log.warning('outbox message %s attempt %s failed: %s', message.id, message.attempts, type(error).__name__)
        return await _finish(
            message,
            status='failed' if failed else 'queued',
            error=f'{type(error).__name__}: {error}'[:1000],
            next_attempt=None if failed else now() + backoff(message.attempts),
        )
    message.attempts += 1
    return await _finish(message, status='sent', reply=reply)


async def _finish(
    message: OutboxMessage,
    *,
    status: str,
    error: str = '',
    reply: str = '',
    next_attempt: datetime | None = None,
) -> OutboxMessage:
    message.status = status
    message.next_attempt_at = next_attempt
    if error:
        message.last_error = error
    if reply:
        message.server_reply = reply[:500]
        message.sent_at = now()
    if status not in ('queued', 'sending') and message.purpose in LINK_PURPOSES:
        message.body = REDACTED_BODY
    await message.save()
    if message.patient_id:
        await events.publish(message.patient_id, events.MESSAGES)
    return message


async def _send(message: OutboxMessage) -> str:
    if message.channel == 'sms':
        log.info('SMS (log channel) message %s to ***%s: %s', message.id, message.to_address[-4:], message.body)
        return SMS_LOG_REPLY
    smtp = transport()
    email = EmailMessage()
    email['From'] = smtp.mail_from
    email['To'] = message.to_address
    email['Subject'] = message.subject
    email['Message-ID'] = make_msgid(domain='portal.local')
    email.set_content(message.body)
    _, reply = await aiosmtplib.send(
        email,
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username or None,
        password=smtp.password or None,
        use_tls=smtp.security == 'tls',
        start_tls=smtp.security == 'starttls',
        timeout=smtp.timeout,
    )
    return reply


async def retry_due(limit: int = 50) -> int:
    """Send what is due: called by the background loop; returns how many were sent."""
    due = (
        await OutboxMessage.filter(status__in=('queued', 'sending'), next_attempt_at__lte=now())
        .order_by('id')
        .limit(limit)
        .values_list('id', flat=True)
    )
    sent = 0
    for message_id in due:
        result = await deliver(message_id)
        sent += bool(result and result.status == 'sent')
    return sent


async def messages_for_patient(patient_id: int, limit: int = 20) -> list[OutboxMessage]:
    return await OutboxMessage.filter(patient_id=patient_id).order_by('-created_at', '-id').limit(limit)


async def wait_for_pending() -> None:
    """Tests and shutdown: let background deliveries finish."""
    if _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)
