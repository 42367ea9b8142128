"""Staff sign-in with the password alone (front-desk members who have not set up two-step sign-in; that step:
tests/security/test_two_step_sign_in.py): argon2id passwords, lock-out after repeated failures, audit trail."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models.audit import AuditEvent
from models.staff import StaffUser
from services import staff_auth
from services.email_addresses import InvalidEmail
from services.password_policy import PasswordRejected
from services.staff_auth import AccountLocked, SignInFailed, StaffInputError
from tests import factories
from tests.factories import STAFF_PASSWORD

CLIENT = '10.0.0.7'


async def _fail(email: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(SignInFailed):
            await staff_auth.authenticate(email, 'not the password', CLIENT)


async def test_passwords_are_stored_as_argon2id_hashes(db):
    staff = await factories.make_staff('staff', email='riley@example.org')
    stored = await StaffUser.get(id=staff.id)
    assert stored.password_hash.startswith('$argon2id$')
    assert STAFF_PASSWORD not in stored.password_hash


async def test_the_right_password_signs_in_whatever_the_email_case(db):
    staff = await factories.make_staff('staff', email='riley@example.org')
    signed_in = await staff_auth.authenticate(' Riley@Example.org ', STAFF_PASSWORD, CLIENT)
    assert signed_in.id == staff.id
    stored = await StaffUser.get(id=staff.id)
    assert stored.last_login_at is not None and stored.failed_attempts == 0
    event = await AuditEvent.get(action='staff.signed_in')
    assert (event.actor_type, event.actor_id, event.client_address) == ('staff', staff.id, CLIENT)


async def test_a_wrong_password_is_refused(db):
    await factories.make_staff('staff', email='riley@example.org')
    with pytest.raises(SignInFailed) as error:
        await staff_auth.authenticate('riley@example.org', 'not the password', CLIENT)
    assert str(error.value) == 'The email address or password is not correct.'
    event = await AuditEvent.get(action='staff.sign_in_failed')
    assert (event.client_address, event.detail) == (CLIENT, {'locked': False})


async def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(db):
    with pytest.raises(SignInFailed) as error:
        await staff_auth.authenticate('nobody@example.org', STAFF_PASSWORD, CLIENT)
    assert str(error.value) == 'The email address or password is not correct.'


async def test_a_deactivated_account_cannot_sign_in(db):
    staff = await factories.make_staff('staff', email='riley@example.org')
    await StaffUser.filter(id=staff.id).update(is_active=False)
    with pytest.raises(SignInFailed):
        await staff_auth.authenticate('riley@example.org', STAFF_PASSWORD, CLIENT)


async def test_five_failures_lock_the_account_even_for_the_right_password(db):
    await factories.make_staff('staff', email='riley@example.org')
    await _fail('riley@example.org', staff_auth.MAX_FAILURES - 1)
    with pytest.raises(AccountLocked):
        await staff_auth.authenticate('riley@example.org', 'not the password', CLIENT)
    with pytest.raises(AccountLocked) as error:
        await staff_auth.authenticate('riley@example.org', STAFF_PASSWORD, CLIENT)
    assert error.value.minutes == 15
    assert str(error.value) == str(SignInFailed())  # the words of a wrong password: see tests/security
    events = await AuditEvent.filter(action='staff.sign_in_failed').order_by('id')
    assert [e.detail['locked'] for e in events] == [False] * 4 + [True]


async def test_a_locked_account_opens_again_after_the_lock_time(db):
    staff = await factories.make_staff('staff', email='riley@example.org')
    await _fail('riley@example.org', staff_auth.MAX_FAILURES - 1)
    with pytest.raises(AccountLocked):
        await staff_auth.authenticate('riley@example.org', 'not the password', CLIENT)
    await StaffUser.filter(id=staff.id).update(locked_until=datetime.now(UTC) - timedelta(seconds=1))

    assert (await staff_auth.authenticate('riley@example.org', STAFF_PASSWORD, CLIENT)).id == staff.id
    stored = await StaffUser.get(id=staff.id)
    assert (stored.failed_attempts, stored.locked_until) == (0, None)


async def test_a_successful_sign_in_resets_the_failure_count(db):
    staff = await factories.make_staff('staff', email='riley@example.org')
    await _fail('riley@example.org', staff_auth.MAX_FAILURES - 1)
    await staff_auth.authenticate('riley@example.org', STAFF_PASSWORD, CLIENT)
    await _fail('riley@example.org', staff_auth.MAX_FAILURES - 1)
    assert (await StaffUser.get(id=staff.id)).locked_until is None


async def test_parallel_guesses_cannot_get_past_the_lock(db):
    await factories.make_staff('staff', email='riley@example.org')
    guesses = [f'guess number {n}' for n in range(12)] + [STAFF_PASSWORD]
    results = await asyncio.gather(
        *(staff_auth.authenticate('riley@example.org', guess, CLIENT) for guess in guesses), return_exceptions=True
    )
    assert all(isinstance(r, SignInFailed | AccountLocked) for r in results), results
    assert any(isinstance(r, AccountLocked) for r in results)
    with pytest.raises(AccountLocked):
        await staff_auth.authenticate('riley@example.org', STAFF_PASSWORD, CLIENT)


async def test_staff_accounts_need_a_valid_email_a_name_a_long_password_and_a_known_role(db):
    with pytest.raises(StaffInputError):
        await staff_auth.create_staff('riley@example.org', ' ', STAFF_PASSWORD)
    with pytest.raises(PasswordRejected):
        await staff_auth.create_staff('riley@example.org', 'Riley', 'short')
    with pytest.raises(StaffInputError):
        await staff_auth.create_staff('riley@example.org', 'Riley', STAFF_PASSWORD, role='owner')
    with pytest.raises(InvalidEmail):
        await staff_auth.create_staff('riley at example.org', 'Riley', STAFF_PASSWORD)
    await staff_auth.create_staff('Riley@Example.org', 'Riley', STAFF_PASSWORD)
    with pytest.raises(StaffInputError, match='already exists'):
        await staff_auth.create_staff('riley@example.org', 'Riley Again', STAFF_PASSWORD)
