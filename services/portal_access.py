"""Enabling and disabling a patient's portal access (domain rules 1, 2, 3 and 5)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.outbox import OutboxMessage
from models.patient import Patient
from models.portal_account import LoginToken, PortalAccount
from models.sessions import PortalSession
from models.staff import StaffUser
from services import audit, events, outbox
from services.email_addresses import is_valid_email, normalize_email
from services.errors import DomainError, NotFound


class PortalEmailMissing(DomainError):
    def __init__(self) -> None:
        super().__init__(
            'This patient has no email address on file. Ask the patient for an email address, '
            'save it on the profile, then enable the portal.'
        )


class PortalEmailInvalid(DomainError):
    def __init__(self, email: str) -> None:
        super().__init__(
            f'"{email}" is not a valid email address. Ask the patient for a correct address, '
            'save it on the profile, then enable the portal.'
        )


class PortalEmailInUse(DomainError):
    """Rule 2: only one active portal account per address. Names the conflict and the fix."""

    def __init__(self, other_patient_name: str, other_patient_id: int | None = None) -> None:
        self.other_patient_name = other_patient_name
        self.other_patient_id = other_patient_id  # the page links to that profile
        super().__init__(
            f'This email address is already used by the active portal account of {other_patient_name}. '
            'Give this patient their own email address, then enable the portal.'
        )


class PortalAlreadyActive(DomainError):
    def __init__(self) -> None:
        super().__init__('The patient portal is already enabled for this patient.')


class PortalNotActive(DomainError):
    def __init__(self) -> None:
        super().__init__('The patient portal is not enabled for this patient.')


class LoginEmailLocked(DomainError):
    """Rule 5: the login email cannot change while the portal is active."""

    def __init__(self) -> None:
        super().__init__(
            'The email address cannot be changed while the patient portal is active. '
            'Disable the portal, correct the address, then enable it again.'
        )


@dataclass(frozen=True)
class PortalStatus:
    active: bool
    login_email: str = ''
    enabled_at: datetime | None = None
    enabled_by: str = ''
    disabled_at: datetime | None = None
    disabled_by: str = ''
    last_login_at: datetime | None = None


def _now() -> datetime:
    return datetime.now(UTC)


async def _conflicting_patient(email_normalized: str, patient_id: int) -> Patient | None:
    other = (
        await PortalAccount.filter(active_email=email_normalized)
        .exclude(patient_id=patient_id)
        .select_related('patient')
        .first()
    )
    return other.patient if other else None


async def enable_portal(patient_id: int, staff: StaffUser, actor: audit.Actor) -> PortalAccount:
    patient = await Patient.get_or_none(id=patient_id)
    if patient is None:
        raise NotFound('patient')
    if not patient.email.strip():
        raise PortalEmailMissing()
    if not is_valid_email(patient.email):
        raise PortalEmailInvalid(patient.email.strip())
    email = normalize_email(patient.email)
    if other := await _conflicting_patient(email, patient.id):
        raise PortalEmailInUse(other.full_name, other.id)
    try:
        async with in_transaction():
            account = await PortalAccount.get_or_none(patient_id=patient.id).select_for_update()
            if account and account.is_active:
                raise PortalAlreadyActive()
            if account is None:
                account = PortalAccount(patient_id=patient.id)
            account.login_email = email
            account.active_email = email  # the unique constraint decides races between two enables
            account.enabled_at = _now()
            account.enabled_by = staff
            account.disabled_at = None
            account.disabled_by = None
            await account.save()
            await audit.record(
                'portal.enabled',
                actor,
                patient_id=patient.id,
                object_type='portal_account',
                object_id=account.id,
                detail={'login_email': email},
            )
    except IntegrityError:
        # Lost a race: either another patient took the address, or a second click enabled this one.
        if other := await _conflicting_patient(email, patient.id):
            raise PortalEmailInUse(other.full_name, other.id) from None
        if await PortalAccount.exists(patient_id=patient.id, active_email__not_isnull=True):
            raise PortalAlreadyActive() from None
        raise PortalEmailInUse('another patient') from None
    await events.publish(patient.id, events.PORTAL)
    return account


async def disable_portal(patient_id: int, staff: StaffUser, actor: audit.Actor) -> PortalAccount:
    """Turns access off at once: outstanding links stop working and open sessions end."""
    async with in_transaction():
        account = await PortalAccount.get_or_none(patient_id=patient_id).select_for_update()
        if account is None or not account.is_active:
            raise PortalNotActive()
        now = _now()
        account.active_email = None
        account.disabled_at = now
        account.disabled_by = staff
        await account.save()
        await LoginToken.filter(account_id=account.id, used_at=None, invalidated_at=None).update(invalidated_at=now)
        await PortalSession.filter(account_id=account.id, revoked_at=None).update(revoked_at=now)
        stopped = await OutboxMessage.filter(
            patient_id=patient_id, purpose__in=outbox.LINK_PURPOSES, status='queued'
        ).update(status='failed', last_error='Portal disabled before delivery.', next_attempt_at=None)
        await audit.record(
            'portal.disabled',
            actor,
            patient_id=patient_id,
            object_type='portal_account',
            object_id=account.id,
        )
    await events.publish(patient_id, events.PORTAL)
    if stopped:
        await events.publish(patient_id, events.MESSAGES)
    return account


async def portal_status(patient_id: int) -> PortalStatus:
    account = await PortalAccount.filter(patient_id=patient_id).select_related('enabled_by', 'disabled_by').first()
    if account is None:
        return PortalStatus(active=False)
    return PortalStatus(
        active=account.is_active,
        login_email=account.login_email,
        enabled_at=account.enabled_at,
        enabled_by=account.enabled_by.name if account.enabled_by else '',
        disabled_at=account.disabled_at,
        disabled_by=account.disabled_by.name if account.disabled_by else '',
        last_login_at=account.last_login_at,
    )


async def ensure_email_change_allowed(patient_id: int, new_email: str) -> None:
    """Rule 5, for the profile form: refuse a different login email while the portal is active."""
    account = await PortalAccount.get_or_none(patient_id=patient_id)
    if account and account.is_active and normalize_email(new_email) != account.login_email:
        raise LoginEmailLocked()
