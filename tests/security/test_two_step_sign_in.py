"""Two-step sign-in for staff (TOTP): set up on /staff/two-factor, asked after the password, a code works
once, recovery codes work once, and wrong codes lock the account like wrong passwords."""

import re
import time

import pyotp
import pytest
from nicegui import ui
from nicegui.testing import User

from models.audit import AuditEvent
from models.sessions import StaffSession
from models.staff import StaffRecoveryCode, StaffUser
from services import audit, sessions, staff_auth, staff_totp
from tests import factories

CLIENT = '203.0.113.9'


async def _enrolled(email: str = 'riley@example.org') -> tuple[StaffUser, str, list[str]]:
    staff = await factories.make_staff(email=email)
    secret = staff_totp.new_secret()
    codes = await staff_totp.enable(staff.id, secret, pyotp.TOTP(secret).now(), audit.Actor.staff(staff))
    return await StaffUser.get(id=staff.id), secret, codes


def _code_at_next_step(secret: str) -> str:
    return pyotp.TOTP(secret).at(time.time() + staff_totp.STEP_SECONDS)


async def test_setting_up_needs_a_working_code_and_keeps_the_secret_encrypted(db):
    staff = await factories.make_staff(totp=False)
    secret = staff_totp.new_secret()
    with pytest.raises(staff_totp.CodeRefused):
        await staff_totp.enable(staff.id, secret, '000000' if pyotp.TOTP(secret).now() != '000000' else '111111',
                                audit.Actor.staff(staff))  # fmt: skip
    assert not staff_totp.is_enabled(await StaffUser.get(id=staff.id))

    codes = await staff_totp.enable(staff.id, secret, pyotp.TOTP(secret).now(), audit.Actor.staff(staff))

    stored = await StaffUser.get(id=staff.id)
    assert staff_totp.is_enabled(stored) and secret not in stored.totp_secret
    assert len(codes) == staff_totp.RECOVERY_CODES == await StaffRecoveryCode.filter(staff_id=staff.id).count()
    assert not await StaffRecoveryCode.filter(code_hash__in=codes).exists()  # only hashes are kept
    assert await AuditEvent.exists(action='staff.totp_enabled', object_id=staff.id)


async def test_the_password_alone_does_not_sign_in_and_a_code_works_once(db):
    staff, secret, _ = await _enrolled()

    half = await staff_auth.authenticate('riley@example.org', factories.STAFF_PASSWORD, CLIENT)

    assert staff_auth.needs_second_factor(half)
    assert not await AuditEvent.exists(action='staff.signed_in')
    code = _code_at_next_step(secret)  # the enrolment used the current step
    signed_in = await staff_auth.second_factor(half, code, CLIENT)
    assert signed_in.id == staff.id
    assert (await AuditEvent.get(action='staff.signed_in')).detail == {'second_factor': 'totp'}
    with pytest.raises(staff_totp.CodeRefused):  # replayed: the same code never signs in twice
        await staff_auth.second_factor(half, code, CLIENT)


async def test_a_recovery_code_signs_in_once(db):
    _, _, codes = await _enrolled()
    half = await staff_auth.authenticate('riley@example.org', factories.STAFF_PASSWORD, CLIENT)

    await staff_auth.second_factor(half, codes[3].upper(), CLIENT)  # case and dashes do not matter

    with pytest.raises(staff_totp.CodeRefused):
        await staff_auth.second_factor(half, codes[3], CLIENT)
    assert await staff_totp.recovery_codes_left(half.id) == staff_totp.RECOVERY_CODES - 1


async def test_wrong_codes_lock_the_account_and_a_right_password_does_not_reset_the_count(db):
    _, secret, _ = await _enrolled()
    for _ in range(staff_auth.MAX_FAILURES - 1):
        half = await staff_auth.authenticate('riley@example.org', factories.STAFF_PASSWORD, CLIENT)
        with pytest.raises(staff_totp.CodeRefused):
            await staff_auth.second_factor(half, '12345x', CLIENT)

    half = await staff_auth.authenticate('riley@example.org', factories.STAFF_PASSWORD, CLIENT)
    with pytest.raises(staff_auth.AccountLocked):
        await staff_auth.second_factor(half, '12345x', CLIENT)
    with pytest.raises(staff_auth.AccountLocked):  # even with the right code, until the lock runs out
        await staff_auth.second_factor(half, _code_at_next_step(secret), CLIENT)
    with pytest.raises(staff_auth.AccountLocked):
        await staff_auth.authenticate('riley@example.org', factories.STAFF_PASSWORD, CLIENT)


async def _password_step(user: User, email: str) -> None:
    await user.open('/staff/login')
    user.find(kind=ui.input, content='Email').type(email)
    user.find(kind=ui.input, content='Password').type(factories.STAFF_PASSWORD)
    user.find(kind=ui.button, content='Sign in').click()


async def test_the_sign_in_page_asks_for_the_code_after_the_password(user: User):
    staff, secret, _ = await _enrolled()

    await _password_step(user, staff.email)
    await user.should_see('Enter the 6-digit code', retries=100)
    assert not await StaffSession.filter(staff_id=staff.id).exists()  # nothing signed in yet
    user.find(kind=ui.input, content='Code').type(_code_at_next_step(secret))
    user.find(kind=ui.button, content='Sign in').click()

    await user.should_see(f'{staff.name} (admin)', retries=100)
    assert await StaffSession.filter(staff_id=staff.id).exists()


async def test_a_member_sets_up_two_step_sign_in_on_its_page(user: User):
    from tests.test_staff_console import staff_sign_in

    staff = await staff_sign_in(user, await factories.make_staff('staff'))  # offered, not required
    await user.open('/staff/two-factor')
    user.find(marker='totp-start').click()
    await user.should_see(marker='totp-secret')
    shown = user.find(marker='totp-secret').elements.pop().text
    secret = re.sub(r'\s', '', shown.split(':', 1)[1])
    user.find(kind=ui.input, content='Code').type(pyotp.TOTP(secret).now())
    user.find(marker='totp-turn-on').click()

    await user.should_see(marker='recovery-codes', retries=100)
    assert staff_totp.is_enabled(await StaffUser.get(id=staff.id))


async def test_after_a_change_of_the_secret_key_a_recovery_code_still_signs_in(db):
    from cryptography.fernet import Fernet

    _, secret, codes = await _enrolled()
    staff_totp.configure(Fernet.generate_key())  # as a new PORTAL_SECRET_KEY would
    half = await staff_auth.authenticate('riley@example.org', factories.STAFF_PASSWORD, CLIENT)

    with pytest.raises(staff_totp.CodeRefused):
        await staff_auth.second_factor(half, _code_at_next_step(secret), CLIENT)
    assert (await staff_auth.second_factor(half, codes[0], CLIENT)).id == half.id


async def test_an_admin_resets_the_factor_of_a_member_who_lost_the_phone(user: User):
    from tests.test_staff_console import staff_sign_in

    member, _, _ = await _enrolled(email='desk@example.org')
    await sessions.open_staff_session(member, CLIENT)  # signed in elsewhere, perhaps on the lost phone
    admin = await staff_sign_in(user)

    await user.open('/staff/team')
    user.find(marker=f'reset-totp-{member.id}').click()

    await user.should_not_see(marker=f'reset-totp-{member.id}', retries=100)
    assert not staff_totp.is_enabled(await StaffUser.get(id=member.id))
    assert not await StaffRecoveryCode.filter(staff_id=member.id).exists()
    assert await AuditEvent.exists(action='staff.totp_disabled', actor_id=admin.id, object_id=member.id)
    assert not await StaffSession.filter(staff_id=member.id, revoked_at=None).exists()
