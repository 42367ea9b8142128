"""The outbox: every email and text is a row first, then sent; failures are retried with backoff.

Delivery claims a row with an atomic update before sending, so several app instances sharing one
database never send the same message twice.
"""

import asyncio
import logging
import ssl
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
    ca_file: str | None = None  # a private CA trusted besides the system's

    @property
    def where(self) -> str:
        return f'{self.host}:{self.port}'


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
        problem = describe_failure(error, transport())
        refused = isinstance(error, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPRecipientRefused)
        logged = type(error).__name__ if refused else problem  # a refusal quotes the patient's address
        log.warning('outbox message %s attempt %s failed: %s', message.id, message.attempts, logged)
        return await _finish(
            message,
            status='failed' if failed else 'queued',
            error=problem[:1000],
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
    return await send_email(transport(), to=message.to_address, subject=message.subject, body=message.body)


async def send_email(smtp: SmtpTransport, *, to: str, subject: str, body: str) -> str:
    """One message through the mail server; returns the server's answer to the data (its queue id)."""
    email = EmailMessage()
    email['From'] = smtp.mail_from
    email['To'] = to
    email['Subject'] = subject
    email['Message-ID'] = make_msgid(domain='portal.local')
    email.set_content(body)
    _, reply = await aiosmtplib.send(
        email,
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username or None,
        password=smtp.password or None,
        use_tls=smtp.security == 'tls',
        start_tls=smtp.security == 'starttls',
        cert_bundle=smtp.ca_file or None,
        timeout=smtp.timeout,
    )
    return reply


def describe_failure(error: BaseException, smtp: SmtpTransport) -> str:
    """What went wrong in words an operator acts on (staff see it on the patient's messages too)."""
    certificate = _in_chain(error, ssl.SSLCertVerificationError)
    if certificate is not None:
        reason = certificate.verify_message or str(certificate)
        if 'mismatch' in reason.lower():  # 'Hostname mismatch' or 'IP address mismatch'
            return (
                f"The mail server's certificate does not name {smtp.host} ({reason}). "
                'Set PORTAL_SMTP_HOST to the name on the certificate.'
            )
        return (
            f"The mail server's certificate at {smtp.where} is not trusted ({reason}). If it is issued by a private "
            "certificate authority, set PORTAL_SMTP_CA_FILE to that authority's certificate (a PEM file)."
        )
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return (
            f'The mail server at {smtp.where} refused the username or password ({error.code} {error.message}). '
            'Check PORTAL_SMTP_USERNAME and PORTAL_SMTP_PASSWORD.'
        )
    tls = _in_chain(error, ssl.SSLError)
    if tls is not None:
        return (
            f'A secure connection to the mail server at {smtp.where} could not be set up ({tls.reason or tls}). '
            'Port 465 usually needs PORTAL_SMTP_SECURITY=tls, port 587 needs starttls.'
        )
    text = str(error)
    if 'STARTTLS extension not supported' in text:
        return (
            f'The mail server at {smtp.where} does not offer STARTTLS. Check PORTAL_SMTP_PORT '
            '(usually 587 for starttls) or use PORTAL_SMTP_SECURITY=tls (usually port 465).'
        )
    if 'server ready message' in text:
        return (
            f'The mail server at {smtp.where} did not greet in plain text, so it probably expects TLS from the '
            'first byte: use PORTAL_SMTP_SECURITY=tls (usually port 465).'
        )
    if isinstance(error, aiosmtplib.SMTPException) and ('AUTH' in text or 'authentication' in text.lower()):
        return (
            f'The mail server at {smtp.where} offers no way to log in on this connection ({text}). '
            'Most servers accept a login only over TLS: set PORTAL_SMTP_SECURITY to starttls or tls.'
        )
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        return (
            f'The mail server refused the sender {error.sender} ({error.code} {error.message}). '
            'Set PORTAL_MAIL_FROM to an address this account may send from.'
        )
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPRecipientRefused):
        return f'The mail server refused the recipient address: {text}'
    if isinstance(error, aiosmtplib.SMTPConnectError | TimeoutError | ConnectionError):
        return (
            f'Cannot connect to the mail server at {smtp.where} ({text}). Check PORTAL_SMTP_HOST and '
            'PORTAL_SMTP_PORT, and that this machine may reach that server.'
        )
    return f'{type(error).__name__}: {text}'


def _in_chain(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


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
