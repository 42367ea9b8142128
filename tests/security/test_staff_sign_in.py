"""Staff sign-in as an attacker tries it: the lock-out does not tell real addresses apart, and passwords
follow NIST SP 800-63B-4 (15+ characters, not common or breached, no composition rules)."""

import pytest
from nicegui.testing import User

from models.audit import AuditEvent
from models.staff import StaffUser
from services import password_policy, staff_auth, team
from services.password_policy import PasswordRejected, check_new_password
from tests import factories
from tests.test_staff_console import staff_sign_in

CLIENT = '203.0.113.9'


async def _answer(email: str, password: str) -> str:
    with pytest.raises(staff_auth.SignInFailed) as refused:
        await staff_auth.authenticate(email, password, CLIENT)
    return str(refused.value)


async def test_a_locked_account_answers_exactly_like_a_wrong_password_or_an_unknown_address(db):
    await factories.make_staff(email='riley@example.org')
    for _ in range(staff_auth.MAX_FAILURES):
        wrong = await _answer('riley@example.org', 'not the password at all')

    locked = await _answer('riley@example.org', factories.STAFF_PASSWORD)  # even the right password
    unknown = await _answer('nobody@example.org', 'not the password at all')

    assert locked == wrong == unknown == 'The email address or password is not correct.'
    stored = await StaffUser.get(email='riley@example.org')
    assert team.is_locked(stored)  # the lock is still there


async def test_an_admin_sees_the_lock_on_the_team_page_and_can_lift_it(user: User):
    admin = await staff_sign_in(user)
    member = await factories.make_staff(role='staff', email='desk@example.org', name='Sam Desk')
    for _ in range(staff_auth.MAX_FAILURES):
        await _answer('desk@example.org', 'not the password at all')

    await user.open('/staff/team')
    await user.should_see(marker=f'locked-{member.id}')
    await user.should_see('after repeated failed sign-ins')
    user.find(marker=f'unlock-{member.id}').click()

    await user.should_not_see(marker=f'locked-{member.id}', retries=100)
    assert not team.is_locked(await StaffUser.get(id=member.id))
    assert await AuditEvent.exists(action='staff.unlocked', actor_id=admin.id, object_id=member.id)
    assert (await staff_auth.authenticate('desk@example.org', factories.STAFF_PASSWORD, CLIENT)).id == member.id


@pytest.mark.parametrize(
    'password',
    [
        'correct horse b',  # exactly 15
        'ÄÖÜ äöü ßéè ñçå',
        'all lower case and no digits',
        'tram violet eleven spoon',
        'x' * 127 + 'y',
    ],
)
def test_long_uncommon_passwords_of_any_characters_are_accepted(password):
    assert check_new_password(password, password, email='riley@example.org', name='Riley Park') == password


@pytest.mark.parametrize(
    ('password', 'reason'),
    [
        ('Tr0ub4dor&3xyz', 'at least 15 characters'),  # mixed classes do not make up for length
        ('qwertyuiop12345', 'common or breached'),
        ('QWERTYUIOP12345', 'common or breached'),  # case does not make it uncommon
        ('1qaz2wsx3edc4rfv', 'common or breached'),
        ('sunshine1234567', 'common or breached'),  # a common one with digits added
        ('passwordpassword', 'repeats'),
        ('aaaaaaaaaaaaaaaaaaaa', 'repeats'),
        ('               ', 'repeats'),
        ('123456789012345', 'sequence'),
        ('zyxwvutsrqponmlk', 'sequence'),
        ('riley@example.org', 'email address or name'),
        ('RileyPark2024!!!', 'email address or name'),
        ('y' * 129, 'at most 128'),
    ],
)
def test_short_common_or_predictable_passwords_are_refused(password, reason):
    with pytest.raises(PasswordRejected, match=reason):
        check_new_password(password, email='riley@example.org', name='Riley Park')


def test_the_shipped_list_is_large_and_every_entry_is_refused():
    common = password_policy.common_passwords()
    assert len(common) > 10_000
    for entry in ('baseball', 'iloveyou', 'trustno1', '1234567890qwerty', 'passwordstandard'):
        assert entry in common
    padded = [p for p in common if len(p) >= password_policy.MIN_LENGTH]
    assert padded
    for entry in padded:
        with pytest.raises(PasswordRejected):
            check_new_password(entry)


async def test_create_staff_uses_the_same_policy(db):
    for password in ('fourteen chars', 'qwertyuiop12345'):
        with pytest.raises(PasswordRejected):
            await staff_auth.create_staff('riley@example.org', 'Riley Park', password, 'admin')
    with pytest.raises(PasswordRejected, match='email address or name'):
        await staff_auth.create_staff('riley@example.org', 'Riley Park', 'riley@example.org', 'admin')
    assert not await StaffUser.exists()
    await staff_auth.create_staff('riley@example.org', 'Riley Park', 'tram violet eleven spoon', 'admin')


async def test_a_reset_link_refuses_a_common_password_and_stays_usable(db, smtp_server):
    from services import staff_password
    from tests.test_team import invite

    admin = await factories.make_staff('admin')
    member, token = await invite(smtp_server, admin)
    with pytest.raises(PasswordRejected, match='common or breached'):
        await staff_password.set_password(token, 'iloveyou1234567', 'iloveyou1234567')
    with pytest.raises(PasswordRejected, match='email address or name'):
        await staff_password.set_password(token, member.email, member.email)
    await staff_password.set_password(token, 'tram violet eleven spoon', 'tram violet eleven spoon')
