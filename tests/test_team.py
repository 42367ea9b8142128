"""The team: members are invited by an emailed set-password link, deactivated at once, and the practice
always keeps an active administrator."""

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from models.audit import AuditEvent
from models.outbox import OutboxMessage
from models.sessions import StaffSession
from models.staff import StaffPasswordToken, StaffUser
from portal.app import RedactTokens
from services import audit, events, outbox, sessions, staff_auth, staff_password, team
from services.staff_password import PasswordLinkUnusable, PasswordRejected
from tests import factories
from tests.conftest import TEST_BASE_URL
from tests.mail import SmtpServer, body

NEW_PASSWORD = 'lighthouse kettle orchard'  # 25 characters, no digits or symbols: length is the rule
SET_LINK = re.compile(r'https?://\S+/staff/set-password/(\S+)')


def token_in(text: str) -> str:
    return SET_LINK.search(text).group(1)


async def invite(smtp_server: SmtpServer, admin: StaffUser, email: str = 'casey@example.org', role: str = 'staff'):
    member = await team.add_member('Casey Lens', email, role, audit.Actor.staff(admin))
    message = await smtp_server.wait_for(email)
    return member, token_in(body(message))


# -- adding a member and the set-password link -----------------------------------------------------------


async def test_a_new_member_is_emailed_a_link_and_chooses_their_own_password(db, smtp_server):
    admin = await factories.make_staff('admin')
    member, token = await invite(smtp_server, admin)
    assert member.role == 'staff' and member.password_hash == ''
    with pytest.raises(staff_auth.SignInFailed):  # no password until they choose one
        await staff_auth.authenticate('casey@example.org', '')

    assert (await staff_password.check_link(token)).id == member.id
    await staff_password.set_password(token, NEW_PASSWORD, NEW_PASSWORD, '10.0.0.5')
    signed_in = await staff_auth.authenticate('Casey@Example.org', NEW_PASSWORD)
    assert signed_in.id == member.id
    assert await AuditEvent.exists(action='staff.added', object_id=member.id, actor_id=admin.id)
    assert await AuditEvent.exists(action='staff.password_set', object_id=member.id, actor_id=member.id)


async def test_the_invitation_email_names_the_practice_and_says_how_long_the_link_works(db, smtp_server):
    await factories.make_practice(name='Harbor Eye Care')
    admin = await factories.make_staff('admin')
    await team.add_member('Casey Lens', 'casey@example.org', 'staff', audit.Actor.staff(admin))
    message = await smtp_server.wait_for('casey@example.org')
    assert message['Subject'] == 'Set your password for the Harbor Eye Care staff console'
    text = body(message)
    assert 'Hello Casey Lens' in text and 'for 72 hours' in text and 'at least 15 characters' in text
    assert token_in(text)
    stored = await OutboxMessage.get(to_address='casey@example.org')
    assert stored.purpose == 'staff_password'
    await outbox.wait_for_pending()
    assert (await OutboxMessage.get(id=stored.id)).body == outbox.REDACTED_BODY  # a credential is not kept


async def test_the_link_is_stored_only_as_a_hash(db, smtp_server):
    admin = await factories.make_staff('admin')
    _, token = await invite(smtp_server, admin)
    jti = jwt.decode(token, options={'verify_signature': False})['jti']
    row = await StaffPasswordToken.get()
    assert jti not in row.jti_hash and token not in row.jti_hash


async def test_checking_a_link_changes_nothing_so_a_mail_scanner_cannot_burn_it(db, smtp_server):
    admin = await factories.make_staff('admin')
    member, token = await invite(smtp_server, admin)
    for _ in range(3):
        await staff_password.check_link(token)
    assert (await StaffPasswordToken.get()).used_at is None
    await staff_password.set_password(token, NEW_PASSWORD, NEW_PASSWORD)
    assert (await StaffUser.get(id=member.id)).password_hash.startswith('$argon2id$')


async def test_a_set_password_link_works_once(db, smtp_server):
    admin = await factories.make_staff('admin')
    _, token = await invite(smtp_server, admin)
    await staff_password.set_password(token, NEW_PASSWORD, NEW_PASSWORD)
    with pytest.raises(PasswordLinkUnusable, match='already been used') as refused:
        await staff_password.set_password(token, 'another long passphrase', 'another long passphrase')
    assert refused.value.reason == 'used'
    with pytest.raises(PasswordLinkUnusable, match='already been used'):
        await staff_password.check_link(token)


async def test_an_expired_set_password_link_is_refused(db, smtp_server):
    admin = await factories.make_staff('admin')
    _, token = await invite(smtp_server, admin)
    await StaffPasswordToken.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(PasswordLinkUnusable, match='has expired') as refused:
        await staff_password.set_password(token, NEW_PASSWORD, NEW_PASSWORD)
    assert refused.value.reason == 'expired'


async def test_an_expired_signature_is_refused_even_if_the_row_is_still_open(db, secret_key):
    member = await factories.make_staff('staff')
    now = datetime.now(UTC)
    claims = {
        'iss': TEST_BASE_URL,
        'aud': staff_password.AUDIENCE,
        'sub': str(member.id),
        'jti': 'x',
        'iat': int((now - timedelta(hours=2)).timestamp()),
        'exp': int((now - timedelta(minutes=1)).timestamp()),
    }
    with pytest.raises(PasswordLinkUnusable, match='has expired'):
        await staff_password.check_link(jwt.encode(claims, secret_key, algorithm='HS256'))


async def test_a_newer_link_supersedes_the_older_one(db, smtp_server):
    admin = await factories.make_staff('admin')
    member, first = await invite(smtp_server, admin)
    await team.send_password_reset(member.id, audit.Actor.staff(admin))
    second = token_in(body(await smtp_server.wait_for('casey@example.org', count=2)))
    with pytest.raises(PasswordLinkUnusable, match='newer link') as refused:
        await staff_password.set_password(first, NEW_PASSWORD, NEW_PASSWORD)
    assert refused.value.reason == 'replaced'
    await staff_password.set_password(second, NEW_PASSWORD, NEW_PASSWORD)


@pytest.mark.parametrize('token', ['', 'not-a-token', 'a.b.c'])
async def test_a_malformed_link_is_refused_as_invalid(db, token):
    with pytest.raises(PasswordLinkUnusable, match='not a valid link'):
        await staff_password.check_link(token)


async def test_a_patient_login_link_is_not_a_set_password_link(db, secret_key):
    member = await factories.make_staff('staff')
    now = datetime.now(UTC)
    claims = {'iss': TEST_BASE_URL, 'aud': 'eyecare-portal:login', 'sub': str(member.id), 'jti': 'x',
              'iat': int(now.timestamp()), 'exp': int((now + timedelta(minutes=5)).timestamp())}  # fmt: skip
    with pytest.raises(PasswordLinkUnusable, match='not a valid link'):
        await staff_password.check_link(jwt.encode(claims, secret_key, algorithm='HS256'))


@pytest.mark.parametrize(
    ('password', 'repeated', 'message'),
    [
        ('fourteen chars', 'fourteen chars', 'at least 15 characters'),
        ('qwertyuiop12345', 'qwertyuiop12345', 'common or breached'),
        ('x' * 129, 'x' * 129, 'at most 128 characters'),
        (NEW_PASSWORD, NEW_PASSWORD + '!', 'do not match'),
    ],
)
async def test_a_refused_password_does_not_burn_the_link(db, smtp_server, password, repeated, message):
    admin = await factories.make_staff('admin')
    _, token = await invite(smtp_server, admin)
    with pytest.raises(PasswordRejected, match=message):
        await staff_password.set_password(token, password, repeated)
    assert (await StaffPasswordToken.get()).used_at is None
    await staff_password.set_password(token, NEW_PASSWORD, NEW_PASSWORD)


def test_fifteen_characters_of_any_kind_make_an_acceptable_password():
    for password in ('correct horse b', 'ÄÖÜ äöü ßéè ñçå', '  lots   of   spaces  ', 'ALL CAPS AND NO DIGITS'):
        assert staff_password.validated_new_password(password) == password


async def test_an_email_already_on_the_team_is_refused(db, smtp_server):
    admin = await factories.make_staff('admin', email='ada@example.org')
    with pytest.raises(team.TeamError, match='already a staff account for ada@example.org'):
        await team.add_member('Ada Again', ' ADA@example.org ', 'staff', audit.Actor.staff(admin))
    assert not await StaffPasswordToken.exists()


@pytest.mark.parametrize(
    ('name', 'email', 'role', 'message'),
    [
        ('', 'casey@example.org', 'staff', "enter the team member's name"),
        ('Casey Lens', 'casey@', 'staff', 'is not a valid email address'),
        ('Casey Lens', 'casey@example.org', 'owner', 'Choose a role: Administrator or Staff'),
    ],
)
async def test_a_member_with_a_wrong_field_is_refused(db, name, email, role, message):
    admin = await factories.make_staff('admin')
    with pytest.raises(team.TeamError, match=message):
        await team.add_member(name, email, role, audit.Actor.staff(admin))
    assert await StaffUser.all().count() == 1


# -- deactivate, reactivate, reset -------------------------------------------------------------------------


async def test_deactivating_ends_the_members_sessions_at_once_and_tells_their_pages(db, smtp_server):
    admin = await factories.make_staff('admin')
    member = await factories.make_staff('staff')
    token = await sessions.open_staff_session(member, '10.0.0.7')
    heard: list[events.Event] = []

    async def handler(event: events.Event) -> None:
        heard.append(event)

    events.subscribe_staff(member.id, handler)
    await team.deactivate(member.id, audit.Actor.staff(admin))
    assert await sessions.resolve_staff_session(token) is None
    assert await StaffSession.filter(staff_id=member.id, revoked_at=None).count() == 0
    for _ in range(100):
        if heard:
            break
        await asyncio.sleep(0.01)
    assert heard and heard[0].topic == events.SESSION
    with pytest.raises(staff_auth.SignInFailed):
        await staff_auth.authenticate(member.email, factories.STAFF_PASSWORD)
    assert await AuditEvent.exists(action='staff.deactivated', object_id=member.id)


async def test_a_deactivated_members_unused_link_stops_working_and_no_reset_is_sent(db, smtp_server):
    admin = await factories.make_staff('admin')
    member, token = await invite(smtp_server, admin)
    await team.deactivate(member.id, audit.Actor.staff(admin))
    with pytest.raises(PasswordLinkUnusable):
        await staff_password.set_password(token, NEW_PASSWORD, NEW_PASSWORD)
    with pytest.raises(team.TeamError, match='Reactivate it before sending'):
        await team.send_password_reset(member.id, audit.Actor.staff(admin))


async def test_a_reactivated_member_signs_in_again(db):
    admin = await factories.make_staff('admin')
    member = await factories.make_staff('staff')
    await team.deactivate(member.id, audit.Actor.staff(admin))
    await team.reactivate(member.id, audit.Actor.staff(admin))
    assert (await staff_auth.authenticate(member.email, factories.STAFF_PASSWORD)).id == member.id
    assert await AuditEvent.exists(action='staff.reactivated', object_id=member.id)


async def test_a_password_reset_keeps_the_old_password_until_the_new_one_is_chosen(db, smtp_server):
    admin = await factories.make_staff('admin')
    member = await factories.make_staff('staff', email='riley@example.org')
    session = await sessions.open_staff_session(member, '10.0.0.7')
    await team.send_password_reset(member.id, audit.Actor.staff(admin))
    message = await smtp_server.wait_for('riley@example.org')
    assert message['Subject'].startswith('Reset your password') and 'for one hour' in body(message)
    await staff_auth.authenticate(member.email, factories.STAFF_PASSWORD)

    await staff_password.set_password(token_in(body(message)), NEW_PASSWORD, NEW_PASSWORD)
    with pytest.raises(staff_auth.SignInFailed):
        await staff_auth.authenticate(member.email, factories.STAFF_PASSWORD)
    assert (await staff_auth.authenticate(member.email, NEW_PASSWORD)).id == member.id
    assert await sessions.resolve_staff_session(session) is None  # whoever held the old session is out


# -- the last administrator ----------------------------------------------------------------------------


async def test_the_last_active_admin_cannot_be_deactivated(db):
    admin = await factories.make_staff('admin', name='Ada Admin')
    await factories.make_staff('staff')
    with pytest.raises(team.LastAdministrator, match='Ada Admin is the only active administrator'):
        await team.deactivate(admin.id, audit.Actor.staff(admin))
    assert (await StaffUser.get(id=admin.id)).is_active


async def test_the_last_active_admin_cannot_be_made_staff(db):
    admin = await factories.make_staff('admin', name='Ada Admin')
    with pytest.raises(team.LastAdministrator, match='cannot be made staff. Make another team member'):
        await team.change_role(admin.id, 'staff', audit.Actor.staff(admin))
    assert (await StaffUser.get(id=admin.id)).role == 'admin'


async def test_an_admin_can_step_down_once_another_admin_exists(db):
    first = await factories.make_staff('admin')
    second = await factories.make_staff('staff')
    await team.change_role(second.id, 'admin', audit.Actor.staff(first))
    await team.change_role(first.id, 'staff', audit.Actor.staff(first))
    assert (await StaffUser.get(id=first.id)).role == 'staff'
    with pytest.raises(team.LastAdministrator):
        await team.deactivate(second.id, audit.Actor.staff(second))
    event = await AuditEvent.get(action='staff.role_changed', object_id=first.id)
    assert event.detail == {'from': 'admin', 'to': 'staff'}


async def test_a_deactivated_admin_does_not_count_as_the_remaining_admin(db):
    first = await factories.make_staff('admin')
    second = await factories.make_staff('admin')
    await team.deactivate(second.id, audit.Actor.staff(first))
    with pytest.raises(team.LastAdministrator):
        await team.change_role(first.id, 'staff', audit.Actor.staff(first))


async def test_two_admins_cannot_both_deactivate_each_other_at_once(db):
    first = await factories.make_staff('admin')
    second = await factories.make_staff('admin')
    results = await asyncio.gather(
        team.deactivate(first.id, audit.Actor.staff(second)),
        team.deactivate(second.id, audit.Actor.staff(first)),
        return_exceptions=True,
    )
    assert sum(isinstance(result, team.LastAdministrator) for result in results) == 1
    assert await StaffUser.filter(role='admin', is_active=True).count() == 1


# -- provider link ------------------------------------------------------------------------------------------


async def test_a_staff_account_is_linked_to_one_provider_and_unlinked(db):
    practice = await factories.make_practice()
    provider = await factories.make_provider(practice, name='Priya Raman')
    admin = await factories.make_staff('admin', name='Ada Admin')
    other = await factories.make_staff('staff', name='Sam Desk')
    linked = await team.link_provider(admin.id, provider.id, audit.Actor.staff(admin))
    assert linked.provider_id == provider.id
    with pytest.raises(team.TeamError, match="Priya Raman is already linked to Ada Admin's account"):
        await team.link_provider(other.id, provider.id, audit.Actor.staff(admin))
    await team.link_provider(admin.id, None, audit.Actor.staff(admin))
    await team.link_provider(other.id, provider.id, audit.Actor.staff(admin))
    assert (await StaffUser.get(id=other.id)).provider_id == provider.id
    actions = await AuditEvent.filter(object_type='staff').order_by('id').values_list('action', flat=True)
    assert actions == ['staff.provider_linked', 'staff.provider_unlinked', 'staff.provider_linked']


async def test_an_inactive_provider_cannot_be_linked(db):
    practice = await factories.make_practice()
    provider = await factories.make_provider(practice, name='Priya Raman', is_active=False)
    admin = await factories.make_staff('admin')
    with pytest.raises(team.TeamError, match='Priya Raman is deactivated'):
        await team.link_provider(admin.id, provider.id, audit.Actor.staff(admin))


async def test_the_team_list_shows_active_members_first_with_their_provider(db):
    practice = await factories.make_practice()
    provider = await factories.make_provider(practice)
    admin = await factories.make_staff('admin', name='Zed Admin')
    gone = await factories.make_staff('staff', name='Abe Gone')
    await team.deactivate(gone.id, audit.Actor.staff(admin))
    await team.link_provider(admin.id, provider.id, audit.Actor.staff(admin))
    members = await team.list_team()
    assert [m.name for m in members] == ['Zed Admin', 'Abe Gone']
    assert members[0].provider.name == provider.name


def test_access_logs_never_carry_a_set_password_link():
    record = logging.LogRecord(
        'uvicorn.access',
        logging.INFO,
        '',
        0,
        '%s "%s"',
        ('1.2.3.4', 'GET /staff/set-password/abc.def.ghi HTTP/1.1'),
        None,
    )
    RedactTokens().filter(record)
    assert 'abc.def' not in record.getMessage() and '/staff/set-password/[redacted]' in record.getMessage()
