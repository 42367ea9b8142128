"""Magic-link login: email in, link out, no password ever.

A link is a signed JWT (HS256 only) whose random `jti` is stored hashed in a LoginToken row. Looking
at a link (GET, HEAD, a mail scanner) changes nothing; only `sign_in_with_link` consumes it, in one
atomic update. The email also carries a one-time code for the patient who asked on another device.
"""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.portal_account import LoginToken, PortalAccount
from models.practice import Practice
from services import audit, events, outbox, sessions, throttle
from services.email_addresses import mask_email, normalize_email
from services.errors import DomainError
from services.phones import display_phone, phone_e164
from services.typed_text import findable

log = logging.getLogger(__name__)

AUDIENCE = 'eyecare-portal:login'
ALGORITHM = 'HS256'
MAX_CODE_ATTEMPTS = 5
EMAIL_MAX = 320  # PortalAccount.active_email
LINK_PATH = '/login/link/'


@dataclass(frozen=True)
class LinkSettings:
    secret: str
    base_url: str
    valid_minutes: int = 15


_settings: LinkSettings | None = None


def configure(settings: LinkSettings) -> None:
    global _settings
    _settings = settings


def link_settings() -> LinkSettings:
    if _settings is None:
        raise RuntimeError('magic_link.configure() was not called')
    return _settings


REASONS = {
    'expired': 'The link has expired. Login links work for {minutes} minutes.',
    'used': 'The link has already been used. Each login link works once.',
    'replaced': 'A newer login link was sent after this one. Use the link in the most recent email.',
    'blocked': 'This link was blocked after too many wrong codes. Please ask for a new login link.',
    'disabled': 'Portal access for this account is switched off. Please call the practice.',
    'invalid': 'This is not a valid login link. It may be incomplete: copy the whole link from the email.',
}


class LinkUnusable(DomainError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(REASONS[reason].format(minutes=link_settings().valid_minutes))


class CodeRejected(DomainError):
    def __init__(self) -> None:
        super().__init__('That code is not correct or has expired. Check the latest email, or ask for a new link.')


# Per address: strict (one link a minute, five in 15 minutes), so nobody's inbox can be flooded. Per client
# address: roomy, because a waiting room shares one Wi-Fi (and so one address) between many patients.
PER_ADDRESS_MINUTE = 1
PER_ADDRESS_15_MINUTES = 5
PER_CLIENT_15_MINUTES = 60
FIFTEEN_MINUTES = 15 * 60


class TooManyRequests(DomainError):
    """Throttled: says which limit and how long to wait, the same for known and unknown addresses."""

    def __init__(self, blocked: throttle.Blocked) -> None:
        self.retry_after_seconds = max(1, int(blocked.retry_after + 0.999))
        minutes = blocked.wait_in_words
        if blocked.limit is throttle.UNAVAILABLE:
            self.kind = 'unavailable'
            message = 'Login links cannot be sent at the moment. Please try again in a minute.'
        elif blocked.limit.key.startswith('client:'):
            self.kind = 'client'
            message = (
                f'Please wait {minutes} before asking for another link: many links were asked for from this '
                'internet connection (a shared Wi-Fi, for example) in the last 15 minutes. '
                'On mobile data you can ask now.'
            )
        elif blocked.limit.window_seconds == FIFTEEN_MINUTES:
            self.kind = 'address'
            message = (
                f'Please wait {minutes} before asking for another link: we send at most '
                f'{PER_ADDRESS_15_MINUTES} links to one address in 15 minutes. If one has arrived, use the newest.'
            )
        else:
            self.kind = 'minute'
            message = 'Please wait a minute before asking for another link.'
        super().__init__(message)


@dataclass(frozen=True)
class IssuedLink:
    url: str
    code: str
    message_id: int


def _now() -> datetime:
    return datetime.now(UTC)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()


def _code_hash(jti_hash: str, code: str) -> str:
    return hmac.new(link_settings().secret.encode(), f'{jti_hash}:{code}'.encode(), hashlib.sha256).hexdigest()


def _email_key(email: str) -> str:
    return 'email:' + _hash(normalize_email(email))[:32]


async def request_login_link(email: str, client_address: str) -> None:
    """The patient's request. Returns quietly whether or not the address is known or active, so the
    page can answer the same words either way; raises TooManyRequests (for any address) when throttled."""
    email = normalize_email(email)
    blocked = await throttle.current().attempt(
        [
            throttle.Limit(_email_key(email), PER_ADDRESS_MINUTE, 60),
            throttle.Limit(_email_key(email) + ':15m', PER_ADDRESS_15_MINUTES, FIFTEEN_MINUTES),
            throttle.Limit('client:' + client_address, PER_CLIENT_15_MINUTES, FIFTEEN_MINUTES),
        ]
    )
    if blocked is not None:
        refusal = TooManyRequests(blocked)
        log.info('login link request throttled for %s (%s limit)', mask_email(email), refusal.kind)
        raise refusal
    account = await _active_account(email)
    if account is None:
        log.info('login link requested for %s: no active account', mask_email(email))
        return
    actor = audit.Actor.patient(account.id, client_address)
    issued = await issue_link(account, actor, purpose='login_link')
    outbox.deliver_soon(issued.message_id)


async def _active_account(email: str) -> PortalAccount | None:
    """The account signing in with this address; an address no account can hold (too long, a control
    character) is unknown without asking the database, which would refuse the question itself."""
    return await PortalAccount.get_or_none(active_email=email) if findable(email, EMAIL_MAX) else None


async def issue_link(account: PortalAccount, actor: audit.Actor, *, purpose: str) -> IssuedLink:
    """Create a token, its email in the outbox and the audit row in one transaction.

    Issuing invalidates every older unused link of the account, so only the newest email works.
    """
    settings, now = link_settings(), _now()
    expires_at = now + timedelta(minutes=settings.valid_minutes)
    jti, code = secrets.token_urlsafe(24), f'{secrets.randbelow(1_000_000):06d}'
    claims = {
        'iss': settings.base_url,
        'aud': AUDIENCE,
        'sub': str(account.id),
        'jti': jti,
        'iat': int(now.timestamp()),
        'exp': int(expires_at.timestamp()),
    }
    url = signed_url(LINK_PATH, claims)
    await account.fetch_related('patient__practice')
    patient, practice = account.patient, account.patient.practice
    async with in_transaction():
        await LoginToken.filter(account_id=account.id, used_at=None, invalidated_at=None).update(invalidated_at=now)
        token = await LoginToken.create(
            account=account,
            jti_hash=_hash(jti),
            code_hash=_code_hash(_hash(jti), code),
            expires_at=expires_at,
            client_address=actor.client_address[:64],
        )
        message = await outbox.enqueue_template(
            'invitation' if purpose == outbox.Purpose.INVITATION else 'login_link',
            to=account.login_email,
            purpose=purpose,
            patient=patient,
            expires_at=expires_at,
            sent_by=actor.label if actor.type == 'staff' else '',
            first_name=patient.first_name,
            practice_name=practice.name,
            practice_phone=display_phone(practice.phone),
            practice_phone_e164=phone_e164(practice.phone),
            portal_url=portal_url(practice),
            url=url,
            button_url=url,
            button_label='Log in to the patient portal',
            code=code,
            minutes=settings.valid_minutes,
        )
        await audit.record(
            'portal.invitation_sent' if actor.type == 'staff' else 'portal.login_link_sent',
            actor,
            patient_id=patient.id,
            object_type='login_token',
            object_id=token.id,
            detail={'message_id': message.id, 'to': mask_email(account.login_email)},
        )
    await events.publish(patient.id, events.MESSAGES)
    return IssuedLink(url=url, code=code, message_id=message.id)


def portal_url(practice: Practice) -> str:
    """The address patients are sent to: the practice's own setting, else the portal's base URL."""
    return (practice.portal_url or '').strip() or link_settings().base_url


def signed_url(path: str, claims: dict) -> str:
    """An emailed link: `path` plus the claims signed with the link key (the staff password link uses it too)."""
    settings = link_settings()
    return settings.base_url + path + jwt.encode(claims, settings.secret, algorithm=ALGORITHM)


def decode_link(token: str, audience: str, unusable: Callable[[str], Exception]) -> dict:
    """The claims of a link this portal signed for `audience`; `unusable('expired' | 'invalid')` otherwise.

    Every claim is required, so a token minted for one purpose (a login link) never opens another (a staff
    password link): the audience differs.
    """
    settings = link_settings()
    try:
        return jwt.decode(
            token,
            settings.secret,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=settings.base_url,
            options={'require': ['exp', 'iat', 'sub', 'jti', 'aud', 'iss']},
        )
    except jwt.ExpiredSignatureError:
        raise unusable('expired') from None
    except jwt.InvalidTokenError:
        raise unusable('invalid') from None


async def _usable_token(token: str) -> LoginToken:
    claims = decode_link(token, AUDIENCE, LinkUnusable)
    row = await LoginToken.get_or_none(jti_hash=_hash(claims['jti'])).select_related('account')
    if row is None or str(row.account_id) != claims['sub']:
        raise LinkUnusable('invalid')
    if not row.account.is_active:
        raise LinkUnusable('disabled')
    if row.used_at:
        raise LinkUnusable('used')
    if row.invalidated_at:
        raise LinkUnusable('blocked' if row.code_attempts >= MAX_CODE_ATTEMPTS else 'replaced')
    if row.expires_at <= _now():
        raise LinkUnusable('expired')
    return row


async def check_link(token: str) -> PortalAccount:
    """Read-only: raises LinkUnusable with the reason, or returns the account a click would sign in."""
    return (await _usable_token(token)).account


async def sign_in_with_link(token: str, client_address: str) -> tuple[PortalAccount, str]:
    """Consume the link (atomically, once) and open a portal session; returns its session token."""
    row = await _usable_token(token)
    return await _consume(row, client_address, method='link')


async def sign_in_with_code(email: str, code: str, client_address: str) -> tuple[PortalAccount, str]:
    account = await _active_account(normalize_email(email))
    code = ''.join(ch for ch in code if ch.isdigit())
    row = None
    if account:
        row = (
            await LoginToken.filter(account_id=account.id, used_at=None, invalidated_at=None, expires_at__gt=_now())
            .order_by('-id')
            .select_related('account')
            .first()
        )
    if row is None or len(code) != 6:
        raise CodeRejected()
    if not await _take_code_attempt(row.id):
        raise CodeRejected()
    if not hmac.compare_digest(row.code_hash, _code_hash(row.jti_hash, code)):
        await LoginToken.filter(id=row.id, code_attempts__gte=MAX_CODE_ATTEMPTS, invalidated_at=None).update(
            invalidated_at=_now()
        )
        raise CodeRejected()
    return await _consume(row, client_address, method='code')


async def _take_code_attempt(token_id: int) -> bool:
    """Count a guess before checking it, in one atomic update: a burst of parallel guesses gets no
    more than five tries in all, and the fifth wrong one burns the link, so brute force gets nowhere."""
    return bool(
        await LoginToken.filter(
            id=token_id, used_at=None, invalidated_at=None, code_attempts__lt=MAX_CODE_ATTEMPTS
        ).update(code_attempts=F('code_attempts') + 1)
    )


async def _consume(row: LoginToken, client_address: str, *, method: str) -> tuple[PortalAccount, str]:
    now = _now()
    consumed = await LoginToken.filter(id=row.id, used_at=None, invalidated_at=None, expires_at__gt=now).update(
        used_at=now
    )
    if not consumed:
        raise LinkUnusable('used') if method == 'link' else CodeRejected()
    account = row.account
    account.last_login_at = now
    await account.save(update_fields=['last_login_at'])
    await audit.record(
        'portal.login',
        audit.Actor.patient(account.id, client_address),
        patient_id=account.patient_id,
        object_type='login_token',
        object_id=row.id,
        detail={'method': method},
    )
    session_token = await sessions.open_patient_session(account, client_address)
    await events.publish(account.patient_id, events.PORTAL)  # staff see the new last login
    return account, session_token
