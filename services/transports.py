"""Transports: the outbox hands a message to the transport of its channel and gets a receipt back.

A transport never raises for a failure it understands: the receipt says whether the message reached
the recipient's mail server or carrier, and if not, whether trying again could help. The outbox alone
decides about retries and status, and pages read the row, never a transport's reply text.
"""

import asyncio
import logging
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

import aiosmtplib

from models.outbox import Channel, OutboxMessage

log = logging.getLogger(__name__)

# Twilio's error for a recipient who replied STOP: texts to that number are refused until they reply START.
TWILIO_UNSUBSCRIBED = 21610
STOP_REASON = 'The patient replied STOP to an earlier text, so the SMS provider refuses texts to this number.'


@dataclass(frozen=True)
class Receipt:
    delivered: bool  # the recipient's mail server or the SMS carrier took the message
    reply: str = ''  # what the server answered, for staff
    permanent: bool = False  # a refusal no retry can fix (bounce, unsubscribed number)
    unreachable: str = ''  # set when this recipient cannot be reached on this channel at all, and why


@dataclass(frozen=True)
class Envelope:
    """What a transport needs besides the row: who the practice is, for the From line."""

    sender_name: str = ''


class Transport(Protocol):
    channel: Channel

    async def send(self, message: OutboxMessage, envelope: Envelope) -> Receipt: ...


# ---------------------------------------------------------------------------------------------
# email


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
    channel: Channel = Channel.EMAIL

    @property
    def where(self) -> str:
        return f'{self.host}:{self.port}'

    @property
    def from_address(self) -> str:
        return parseaddr(self.mail_from)[1] or self.mail_from

    @property
    def domain(self) -> str:
        return self.from_address.rpartition('@')[2] or 'localhost'

    def build(self, *, to: str, subject: str, body: str, html: str = '', sender_name: str = '') -> EmailMessage:
        """The email as it goes out: Date, a Message-ID on the sending domain, the practice's name in From,
        a plain-text part and (when there is one) its HTML alternative. Names and the subject go in as one line:
        a line break in a practice's name must not end the header (the library would refuse the whole email)."""
        email = EmailMessage()
        name = ' '.join((sender_name or parseaddr(self.mail_from)[0]).split())
        local, _, domain = self.from_address.rpartition('@')
        email['From'] = Address(display_name=name, username=local, domain=domain) if local else self.mail_from
        email['To'] = to
        email['Subject'] = ' '.join(subject.split())
        email['Date'] = formatdate(usegmt=True)
        email['Message-ID'] = make_msgid(domain=self.domain)
        email.set_content(body)
        if html:
            email.add_alternative(html, subtype='html')
        return email

    async def submit(self, email: EmailMessage) -> str:
        """Hand one email to the mail server; returns its answer to the data, raises what aiosmtplib raises."""
        _, reply = await aiosmtplib.send(
            email,
            hostname=self.host,
            port=self.port,
            username=self.username or None,
            password=self.password or None,
            use_tls=self.security == 'tls',
            start_tls=self.security == 'starttls',
            cert_bundle=self.ca_file or None,
            timeout=self.timeout,
        )
        return reply

    async def send(self, message: OutboxMessage, envelope: Envelope) -> Receipt:
        email = self.build(
            to=message.to_address,
            subject=message.subject,
            body=message.body,
            html=message.html_body,
            sender_name=envelope.sender_name,
        )
        try:
            reply = await self.submit(email)
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPRecipientRefused) as error:
            refusals = error.recipients if isinstance(error, aiosmtplib.SMTPRecipientsRefused) else [error]
            permanent = bool(refusals) and all(refusal.code >= 500 for refusal in refusals)
            return Receipt(False, describe_failure(error, self), permanent=permanent)  # a bounce: the address is bad
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            # Login, certificate or connection problems are the server's or the settings', not the address's.
            return Receipt(False, describe_failure(error, self))
        return Receipt(True, reply)


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


# ---------------------------------------------------------------------------------------------
# text messages


@dataclass(frozen=True)
class TwilioTransport:
    """Texts through Twilio's Messages API with Twilio's own library (run in a thread: it is synchronous).

    `api_url` exists for tests, which answer like Twilio from a local server."""

    account_sid: str
    auth_token: str
    from_number: str
    api_url: str = ''
    timeout: float = 15.0
    channel: Channel = Channel.SMS

    def _client(self):  # noqa: ANN202 - twilio.rest.Client, imported lazily (only installs with SMS need it)
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token, http_client=TwilioHttpClient(timeout=self.timeout))
        if self.api_url:
            client.api.base_url = self.api_url.rstrip('/')
        return client

    def _send_now(self, to: str, body: str) -> str:
        return self._client().messages.create(to=to, from_=self.from_number, body=body).sid

    async def send(self, message: OutboxMessage, envelope: Envelope) -> Receipt:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            sid = await asyncio.to_thread(self._send_now, message.to_address, message.body)
        except TwilioRestException as error:
            reply = f'Twilio error {error.code or error.status}: {error.msg}'[:500]
            if error.code == TWILIO_UNSUBSCRIBED:
                return Receipt(False, reply, permanent=True, unreachable=STOP_REASON)
            permanent = 400 <= error.status < 500 and error.status != 429
            return Receipt(False, reply, permanent=permanent)
        except (TwilioException, OSError, TimeoutError) as error:
            return Receipt(False, f'{type(error).__name__}: {error}'[:500])
        except Exception as error:  # requests' connection errors: transient, retried with backoff
            if type(error).__module__.startswith(('requests', 'urllib3')):
                return Receipt(False, f'{type(error).__name__}: {error}'[:500])
            raise
        return Receipt(True, f'Accepted by Twilio as {sid}')
