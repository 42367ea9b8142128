"""The outbox: every email and text is a row first, then sent; failures are retried with backoff.

Delivery claims a row with an atomic update before sending, so several app instances sharing one
database never send the same message twice.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q

from models.outbox import Channel, OutboxMessage, Purpose, Status
from models.patient import Patient
from services import after_commit, email_templates, events
from services.phones import phone_e164
from services.transports import Envelope, Receipt, SmtpTransport, Transport, describe_failure

__all__ = ['Channel', 'Purpose', 'SmtpTransport', 'Status', 'describe_failure']

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SUBJECT_MAX = 200  # OutboxMessage.subject
CLAIM_SECONDS = 120
COPIED_REPLY = 'Copied for the practice phone system: the portal did not send this text.'
# Messages whose body carries a login (or staff set-password) link: a credential, kept no longer than needed.
LINK_PURPOSES = (Purpose.LOGIN_LINK, Purpose.INVITATION, Purpose.STAFF_PASSWORD)
REDACTED_BODY = '(The login link in this message was removed after delivery.)'

_transports: dict[Channel, Transport] = {}
_pending: set[asyncio.Task] = set()


def configure(email: SmtpTransport, sms: Transport | None = None) -> None:
    """The transports of this process, one per channel; without an SMS transport texts can only be copied."""
    _transports.clear()
    _transports[Channel.EMAIL] = email
    if sms is not None:
        _transports[Channel.SMS] = sms


def transport(channel: Channel = Channel.EMAIL) -> Transport:
    if channel not in _transports:
        raise RuntimeError(f'no {channel} transport: outbox.configure() was not called with one')
    return _transports[channel]


def can_send(channel: Channel) -> bool:
    """Whether the portal itself can deliver on this channel (an SMS provider is configured)."""
    return channel in _transports


def now() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


# A message that stops working soon (a login link: 15 minutes) is worth sending only while it works, so it
# is retried on every pass of the retry loop until it expires, however many attempts that takes: after a
# mail server outage the patient's link arrives within a minute of the server's return, not after a
# backoff that outlasts the link. Messages with no deadline, or a far one (a 72-hour invitation), back off.
SHORT_LIVED = timedelta(hours=1)
SHORT_LIVED_RETRY = timedelta(seconds=30)


def _next_attempt(message: OutboxMessage) -> datetime | None:
    """When to try again, or None when it is time to give up."""
    if message.expires_at is not None and message.expires_at - message.created_at <= SHORT_LIVED:
        retry_at = now() + SHORT_LIVED_RETRY
        return retry_at if retry_at < message.expires_at else None
    return now() + backoff(message.attempts) if message.attempts < MAX_ATTEMPTS else None


def _fitted_subject(subject: str) -> str:
    """A subject built from a 200-character practice or patient name can outgrow its column; cut it with an
    ellipsis rather than lose the email (the body still names everything)."""
    subject = ' '.join(subject.split())
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1].rstrip() + '…'


async def enqueue_email(
    *,
    to: str,
    subject: str,
    body: str,
    purpose: str,
    patient: Patient | None = None,
    expires_at: datetime | None = None,
    html: str = '',
    sent_by: str = '',
) -> OutboxMessage:
    """Queue a message. Often called inside the caller's transaction, so the caller publishes the
    `messages` event once it commits (or the delivery attempt that follows does).

    Without `html` the HTML alternative is made from the plain text, so every email has both parts."""
    subject = _fitted_subject(subject)
    return await OutboxMessage.create(
        channel=Channel.EMAIL,
        purpose=purpose,
        patient=patient,
        to_address=to,
        subject=subject,
        body=body,
        html_body=html or email_templates.html_from_text(subject, body),
        expires_at=expires_at,
        sent_by=sent_by,
        next_attempt_at=now(),
    )


async def enqueue_template(
    kind: str,
    *,
    to: str,
    purpose: str,
    patient: Patient | None = None,
    expires_at: datetime | None = None,
    sent_by: str = '',
    **context: object,
) -> OutboxMessage:
    """Queue an email rendered from `templates/email/<kind>.txt` and `.html` (see services.email_templates)."""
    mail = email_templates.render(kind, **context)
    return await enqueue_email(
        to=to,
        subject=mail.subject,
        body=mail.text,
        html=mail.html,
        purpose=purpose,
        patient=patient,
        expires_at=expires_at,
        sent_by=sent_by,
    )


async def enqueue_text(
    *, to: str, body: str, purpose: str, patient: Patient | None = None, sent_by: str = ''
) -> OutboxMessage:
    return await OutboxMessage.create(
        channel=Channel.SMS,
        purpose=purpose,
        patient=patient,
        to_address=to,
        body=body,
        sent_by=sent_by,
        next_attempt_at=now(),
    )


async def record_copied_text(
    *, to: str, body: str, purpose: str, patient: Patient | None = None, sent_by: str = ''
) -> OutboxMessage:
    """A text staff copied into the practice's own phone system: recorded, never claimed as delivered."""
    return await OutboxMessage.create(
        channel=Channel.SMS,
        purpose=purpose,
        patient=patient,
        to_address=to,
        body=body,
        status=Status.COPIED,
        server_reply=COPIED_REPLY,
        sent_by=sent_by,
    )


def deliver_soon(message_id: int) -> None:
    """Send in the background so the caller answers at once (and in the same time for every address);
    inside an outer transaction, once it has committed."""
    if after_commit.hold(('deliver', message_id), lambda: deliver_soon(message_id)):
        return
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
        Q(status=Status.QUEUED) | Q(status=Status.SENDING, next_attempt_at__lte=now()), id=message_id
    ).update(status=Status.SENDING, next_attempt_at=now() + timedelta(seconds=CLAIM_SECONDS))
    if not claimed:
        return None
    message = await OutboxMessage.get(id=message_id)
    if message.expires_at and message.expires_at <= now():
        return await _finish(message, status=Status.FAILED, error='Expired before it could be delivered.')
    receipt = await _send(message)
    message.attempts += 1
    if receipt.delivered:
        return await _finish(message, status=Status.SENT, reply=receipt.reply)
    next_attempt = None if receipt.permanent else _next_attempt(message)
    failed = next_attempt is None
    log.warning(
        'outbox message %s attempt %s failed%s', message.id, message.attempts, ' for good' if receipt.permanent else ''
    )
    if receipt.unreachable and message.patient_id:
        await _mark_unreachable(message, receipt)
    message.permanent_failure = receipt.permanent
    return await _finish(
        message,
        status=Status.FAILED if failed else Status.QUEUED,
        error=receipt.reply[:1000] or 'The transport gave no reason.',
        next_attempt=next_attempt,
    )


async def _finish(
    message: OutboxMessage,
    *,
    status: Status,
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
    if status not in (Status.QUEUED, Status.SENDING) and message.purpose in LINK_PURPOSES:
        message.body = REDACTED_BODY
        message.html_body = ''
    await message.save()
    if message.patient_id:
        await events.publish(message.patient_id, events.MESSAGES)
    return message


async def _send(message: OutboxMessage) -> Receipt:
    if not can_send(Channel(message.channel)):
        return Receipt(False, f'No {message.channel} transport is configured.', permanent=True)
    sender = ''
    if message.patient_id:
        sender = await Patient.filter(id=message.patient_id).first().values_list('practice__name', flat=True) or ''
    return await transport(Channel(message.channel)).send(message, Envelope(sender_name=sender))


async def _mark_unreachable(message: OutboxMessage, receipt: Receipt) -> None:
    """The provider says this number refuses texts (STOP): staff see why, and the Send button goes away."""
    patient = await Patient.get_or_none(id=message.patient_id)
    if patient is not None and phone_e164(patient.phone) == message.to_address:
        patient.text_blocked_reason = receipt.unreachable
        patient.text_blocked_at = now()
        await patient.save(update_fields=['text_blocked_reason', 'text_blocked_at'])
        await events.publish(patient.id, events.PORTAL)


async def send_email(smtp: SmtpTransport, *, to: str, subject: str, body: str) -> str:
    """One message straight to the mail server, outside the outbox (`python main.py check-mail`); returns the
    server's answer, raises what aiosmtplib raises (`describe_failure` puts it in words)."""
    return await smtp.submit(smtp.build(to=to, subject=subject, body=body))


async def retry_due(limit: int = 50) -> int:
    """Send what is due: called by the background loop; returns how many were sent."""
    due = (
        await OutboxMessage.filter(status__in=(Status.QUEUED, Status.SENDING), next_attempt_at__lte=now())
        .order_by('id')
        .limit(limit)
        .values_list('id', flat=True)
    )
    sent = 0
    for message_id in due:
        result = await deliver(message_id)
        sent += bool(result and result.status == Status.SENT)
    return sent


async def messages_for_patient(patient_id: int, limit: int = 20) -> list[OutboxMessage]:
    return await OutboxMessage.filter(patient_id=patient_id).order_by('-created_at', '-id').limit(limit)


def sent_by_label(message: OutboxMessage) -> str:
    """Who sent a message, for the Messages table."""
    if message.sent_by:
        return message.sent_by
    if message.purpose == Purpose.LOGIN_LINK:
        return "The patient's own request"
    return 'The portal (automatic)'


async def wait_for_pending() -> None:
    """Tests and shutdown: let background deliveries finish."""
    if _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)
