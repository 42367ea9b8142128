"""The practice's team: staff accounts, their roles, and their link to a provider.

Administrators add members (who then choose their own password through an emailed link), change roles,
deactivate and reactivate accounts, and send password resets. Deactivating ends the member's sessions at
once and tells their open pages, which leave. The practice always keeps one active administrator: the
rule is checked inside the transaction, with the administrators' rows locked, so two admins demoting
each other at the same moment cannot both succeed.
"""

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.practice import Provider
from models.sessions import StaffSession
from models.staff import ROLES, StaffPasswordToken, StaffUser
from services import audit, events, outbox, staff_password, staff_totp
from services.email_addresses import InvalidEmail, normalize_email, validated_email
from services.errors import DomainError, NotFound
from services.practice_setup import current_practice
from services.typed_text import UNSTORABLE_SENTENCE, unstorable

NAME_MAX = 200
ROLE_NAMES = {'admin': 'Administrator', 'staff': 'Staff'}


class TeamError(DomainError):
    pass


class LastAdministrator(TeamError):
    def __init__(self, name: str, change: str) -> None:
        super().__init__(
            f'{name} is the only active administrator, so they cannot be {change}. '
            'Make another team member an administrator first.'
        )


def _now() -> datetime:
    return datetime.now(UTC)


async def list_team() -> list[StaffUser]:
    """Active members first, then by name, each with their linked provider (two queries in all)."""
    return await StaffUser.all().order_by('-is_active', 'name', 'id').select_related('provider')


async def _locked_member(staff_id: int) -> StaffUser:
    """The member's row, locked for the transaction (PostgreSQL; SQLite serialises writers anyway)."""
    member = await StaffUser.filter(id=staff_id).select_for_update().first()
    if member is None:
        raise NotFound('staff member')
    return member


async def _lock_admins() -> list[int]:
    """Lock every active administrator's row, in id order (so two transactions never deadlock), before
    anything else: a parallel demotion then waits for this one and counts what it left behind."""
    admins = await StaffUser.filter(role='admin', is_active=True).order_by('id').select_for_update()
    return [admin.id for admin in admins]


def _refuse_if_last_admin(member: StaffUser, admin_ids: list[int], change: str) -> None:
    if member.role == 'admin' and member.is_active and not [i for i in admin_ids if i != member.id]:
        raise LastAdministrator(member.name, change)


def _validated_role(role: str) -> str:
    if role not in ROLES:
        raise TeamError(f'Choose a role: {" or ".join(ROLE_NAMES[r] for r in ROLES)}.')
    return role


async def add_member(name: str, email: str, role: str, actor: audit.Actor) -> StaffUser:
    """Create the account without a password and email the member a link to choose one."""
    name = ' '.join((name or '').split())
    if not name:
        raise TeamError("Please enter the team member's name.")
    if len(name) > NAME_MAX:
        raise TeamError(f'The name can have at most {NAME_MAX} characters.')
    if unstorable(name):
        raise TeamError(UNSTORABLE_SENTENCE.format(label='name'))
    try:
        address = normalize_email(validated_email(email))
    except InvalidEmail as error:
        raise TeamError(str(error)) from None
    role = _validated_role(role)
    practice = await current_practice()
    try:
        async with in_transaction():
            member = await StaffUser.create(email=address, name=name, role=role, password_hash='')
            await audit.record('staff.added', actor, object_type='staff', object_id=member.id, detail={'role': role})
            link = await staff_password.issue_link(member, 'invite', actor, practice.name if practice else '')
    except IntegrityError:
        raise TeamError(f'There is already a staff account for {address}.') from None
    outbox.deliver_soon(link.message_id)
    return member


async def send_password_reset(staff_id: int, actor: audit.Actor) -> StaffUser:
    """A new set-password link (older ones stop working). The current password keeps working until it is used."""
    member = await StaffUser.get_or_none(id=staff_id)
    if member is None:
        raise NotFound('staff member')
    if not member.is_active:
        raise TeamError(f"{member.name}'s account is deactivated. Reactivate it before sending a password link.")
    practice = await current_practice()
    link = await staff_password.issue_link(member, 'reset', actor, practice.name if practice else '')
    outbox.deliver_soon(link.message_id)
    return member


async def deactivate(staff_id: int, actor: audit.Actor) -> StaffUser:
    """The member can no longer sign in; their sessions and unused password links end now."""
    now = _now()
    async with in_transaction():
        admin_ids = await _lock_admins()
        member = await _locked_member(staff_id)
        if not member.is_active:
            return member
        _refuse_if_last_admin(member, admin_ids, 'deactivated')
        member.is_active = False
        await member.save(update_fields=['is_active'])
        ended = await StaffSession.filter(staff_id=member.id, revoked_at=None).update(revoked_at=now)
        await StaffPasswordToken.filter(staff_id=member.id, used_at=None, invalidated_at=None).update(
            invalidated_at=now
        )
        await audit.record(
            'staff.deactivated', actor, object_type='staff', object_id=member.id, detail={'sessions_ended': ended}
        )
    await events.publish_staff(member.id, events.SESSION)
    return member


async def reactivate(staff_id: int, actor: audit.Actor) -> StaffUser:
    async with in_transaction():
        member = await _locked_member(staff_id)
        if member.is_active:
            return member
        member.is_active = True
        member.failed_attempts, member.locked_until = 0, None
        await member.save(update_fields=['is_active', 'failed_attempts', 'locked_until'])
        await audit.record('staff.reactivated', actor, object_type='staff', object_id=member.id)
    return member


async def reset_second_factor(staff_id: int, actor: audit.Actor) -> StaffUser:
    """A member who lost the phone and the recovery codes: sign in with the password alone, then set up again.
    Their open sessions end, so whoever holds the old phone gains nothing either."""
    member = await StaffUser.get_or_none(id=staff_id)
    if member is None:
        raise NotFound('staff member')
    if not member.totp_secret:
        return member
    async with in_transaction():
        await staff_totp.disable(member.id, actor)
        ended = await StaffSession.filter(staff_id=member.id, revoked_at=None).update(revoked_at=_now())
    if ended:
        await events.publish_staff(member.id, events.SESSION)
    return await StaffUser.get(id=staff_id)


async def unlock(staff_id: int, actor: audit.Actor) -> StaffUser:
    """Lift a lock-out from repeated failed sign-ins before it runs out (the member was told nothing of it)."""
    async with in_transaction():
        member = await _locked_member(staff_id)
        if member.locked_until is None and not member.failed_attempts:
            return member
        member.failed_attempts, member.locked_until = 0, None
        await member.save(update_fields=['failed_attempts', 'locked_until'])
        await audit.record('staff.unlocked', actor, object_type='staff', object_id=member.id)
    return member


def is_locked(member: StaffUser) -> bool:
    """Locked out after repeated failed sign-ins (the sign-in page says only "not correct")."""
    return member.locked_until is not None and member.locked_until > _now()


async def change_role(staff_id: int, role: str, actor: audit.Actor) -> StaffUser:
    role = _validated_role(role)
    async with in_transaction():
        admin_ids = await _lock_admins()
        member = await _locked_member(staff_id)
        if member.role == role:
            return member
        if role != 'admin':
            _refuse_if_last_admin(member, admin_ids, 'made staff')
        previous, member.role = member.role, role
        await member.save(update_fields=['role'])
        await audit.record(
            'staff.role_changed', actor, object_type='staff', object_id=member.id, detail={'from': previous, 'to': role}
        )
    await events.publish_staff(member.id, events.SESSION)  # an open admin page of a demoted member leaves
    return member


async def link_provider(staff_id: int, provider_id: int | None, actor: audit.Actor) -> StaffUser:
    """Link the account to the provider whose prescriptions it may sign (None unlinks). One account per provider."""
    async with in_transaction():
        member = await _locked_member(staff_id)
        if member.provider_id == provider_id:
            return member
        provider = None
        if provider_id is not None:
            provider = await Provider.get_or_none(id=provider_id)
            if provider is None:
                raise NotFound('provider')
            if not provider.is_active:
                raise TeamError(f'{provider.name} is deactivated. Reactivate the provider before linking an account.')
            other = await StaffUser.filter(provider_id=provider_id).exclude(id=member.id).first()
            if other is not None:
                raise TeamError(
                    f"{provider.name} is already linked to {other.name}'s account. Unlink it there first: "
                    "only one account signs a provider's prescriptions."
                )
        previous, member.provider_id = member.provider_id, provider_id
        await member.save(update_fields=['provider_id'])
        await audit.record(
            'staff.provider_linked' if provider_id else 'staff.provider_unlinked',
            actor,
            object_type='staff',
            object_id=member.id,
            detail={'provider_id': provider_id, 'previous_provider_id': previous},
        )
    member.provider = provider  # type: ignore[assignment]
    return member
