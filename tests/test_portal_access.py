"""Domain rules 1-5: who may have portal access, and how the database keeps it that way."""

import asyncio

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.audit import AuditEvent
from models.patient import Patient
from models.portal_account import PortalAccount
from services import audit
from services.patients import save_patient
from services.portal_access import (
    LoginEmailLocked,
    PortalAlreadyActive,
    PortalEmailInUse,
    PortalEmailInvalid,
    PortalEmailMissing,
    PortalNotActive,
    disable_portal,
    enable_portal,
    ensure_email_change_allowed,
    portal_status,
)
from tests import factories


async def _staff_and_actor() -> tuple:
    staff = await factories.make_staff(name='Riley Front Desk')
    return staff, audit.Actor('staff', staff.id, staff.name, '10.0.0.7')


async def test_patient_without_email_cannot_be_enabled_and_staff_is_told_to_ask_for_one(db):
    staff, actor = await _staff_and_actor()
    patient = await factories.make_patient(email='   ')
    with pytest.raises(PortalEmailMissing) as error:
        await enable_portal(patient.id, staff, actor)
    assert 'Ask the patient for an email address' in str(error.value)
    assert not await PortalAccount.exists(patient_id=patient.id)


async def test_patient_with_invalid_email_cannot_be_enabled(db):
    staff, actor = await _staff_and_actor()
    patient = await factories.make_patient(email='jamie at example.com')
    with pytest.raises(PortalEmailInvalid) as error:
        await enable_portal(patient.id, staff, actor)
    assert 'jamie at example.com' in str(error.value)
    assert not await PortalAccount.exists(patient_id=patient.id)


async def test_enabling_stores_the_normalised_address(db):
    staff, actor = await _staff_and_actor()
    patient = await factories.make_patient(email=' Jane@Example.com ')
    account = await enable_portal(patient.id, staff, actor)
    assert account.login_email == account.active_email == 'jane@example.com'
    status = await portal_status(patient.id)
    assert status.active and status.login_email == 'jane@example.com' and status.enabled_by == 'Riley Front Desk'


async def test_addresses_match_regardless_of_case_and_surrounding_spaces(db):
    staff, actor = await _staff_and_actor()
    first = await factories.make_patient(first_name='Jane', last_name='Parent', email='jane@example.com')
    second = await factories.make_patient(first_name='Max', last_name='Child', email=' Jane@Example.com ')
    await enable_portal(first.id, staff, actor)
    with pytest.raises(PortalEmailInUse):
        await enable_portal(second.id, staff, actor)


async def test_two_patients_may_share_an_address(db):
    first = await factories.make_patient(email='family@example.com')
    second = await factories.make_patient(email='family@example.com')
    assert first.email_normalized == second.email_normalized


async def test_second_patient_sharing_an_email_cannot_be_enabled(db):
    staff, actor = await _staff_and_actor()
    parent = await factories.make_patient(first_name='Jane', last_name='Parent', email='family@example.com')
    child = await factories.make_patient(first_name='Max', last_name='Child', email='family@example.com')
    await enable_portal(parent.id, staff, actor)
    with pytest.raises(PortalEmailInUse) as error:
        await enable_portal(child.id, staff, actor)
    message = str(error.value)
    assert 'Jane Parent' in message
    assert 'Give this patient their own email address' in message
    assert not await PortalAccount.exists(patient_id=child.id, active_email__not_isnull=True)


async def test_database_refuses_a_second_active_account_for_one_address(db):
    first = await factories.make_patient(email='family@example.com')
    second = await factories.make_patient(email='family@example.com')
    await PortalAccount.create(patient=first, login_email='family@example.com', active_email='family@example.com')
    with pytest.raises(IntegrityError):
        async with in_transaction():
            await PortalAccount.create(
                patient=second, login_email='family@example.com', active_email='family@example.com'
            )


async def test_database_refuses_an_update_that_would_duplicate_an_active_address(db):
    first = await factories.make_patient(email='family@example.com')
    second = await factories.make_patient(email='other@example.com')
    await PortalAccount.create(patient=first, login_email='family@example.com', active_email='family@example.com')
    other = await PortalAccount.create(
        patient=second, login_email='other@example.com', active_email='other@example.com'
    )
    with pytest.raises(IntegrityError):
        async with in_transaction():
            await PortalAccount.filter(id=other.id).update(active_email='family@example.com')


async def test_disabled_accounts_do_not_block_the_address(db):
    first = await factories.make_patient(email='family@example.com')
    second = await factories.make_patient(email='family@example.com')
    third = await factories.make_patient(email='family@example.com')
    await PortalAccount.create(patient=first, login_email='family@example.com', active_email=None)
    await PortalAccount.create(patient=second, login_email='family@example.com', active_email=None)
    await PortalAccount.create(patient=third, login_email='family@example.com', active_email='family@example.com')
    assert await PortalAccount.filter(login_email='family@example.com').count() == 3


async def test_two_concurrent_enables_for_a_shared_address_leave_one_active_account(db):
    staff, actor = await _staff_and_actor()
    parent = await factories.make_patient(first_name='Jane', last_name='Parent', email='family@example.com')
    child = await factories.make_patient(first_name='Max', last_name='Child', email='Family@example.com')
    results = await asyncio.gather(
        enable_portal(parent.id, staff, actor), enable_portal(child.id, staff, actor), return_exceptions=True
    )
    accounts = [r for r in results if isinstance(r, PortalAccount)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(accounts) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], PortalEmailInUse), repr(errors[0])
    winner = await Patient.get(id=accounts[0].patient_id)
    assert winner.full_name in str(errors[0])
    assert await PortalAccount.filter(active_email='family@example.com').count() == 1
    assert await AuditEvent.filter(action='portal.enabled').count() == 1


async def test_two_concurrent_enables_of_one_patient_leave_one_account(db):
    staff, actor = await _staff_and_actor()
    patient = await factories.make_patient(email='jamie@example.com')
    results = await asyncio.gather(
        enable_portal(patient.id, staff, actor), enable_portal(patient.id, staff, actor), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], PortalAlreadyActive), results
    assert await PortalAccount.filter(patient_id=patient.id).count() == 1


async def test_portal_is_enabled_one_patient_at_a_time(db):
    staff, actor = await _staff_and_actor()
    first = await factories.make_patient(email='one@example.com')
    second = await factories.make_patient(email='two@example.com')
    await enable_portal(first.id, staff, actor)
    assert (await portal_status(first.id)).active
    assert not (await portal_status(second.id)).active
    assert not await PortalAccount.exists(patient_id=second.id)


async def test_enabling_twice_is_refused(db):
    staff, actor = await _staff_and_actor()
    patient = await factories.make_patient()
    await enable_portal(patient.id, staff, actor)
    with pytest.raises(PortalAlreadyActive):
        await enable_portal(patient.id, staff, actor)


async def test_disabling_an_inactive_portal_is_refused(db):
    staff, actor = await _staff_and_actor()
    patient = await factories.make_patient()
    with pytest.raises(PortalNotActive):
        await disable_portal(patient.id, staff, actor)


async def test_login_email_cannot_change_while_the_portal_is_active(db):
    staff, actor = await _staff_and_actor()
    patient = await factories.make_patient(email='jamie@example.com')
    await enable_portal(patient.id, staff, actor)
    with pytest.raises(LoginEmailLocked) as error:
        await ensure_email_change_allowed(patient.id, 'new@example.com')
    assert 'Disable the portal, correct the address, then enable it again' in str(error.value)
    await ensure_email_change_allowed(patient.id, ' JAMIE@example.com ')  # same address, other spelling


async def test_email_may_change_when_the_portal_is_not_active(db):
    patient = await factories.make_patient(email='jamie@example.com')
    await ensure_email_change_allowed(patient.id, 'new@example.com')


async def test_staff_can_disable_correct_the_address_and_enable_again(db):
    staff, actor = await _staff_and_actor()
    parent = await factories.make_patient(first_name='Jane', last_name='Parent', email='family@example.com')
    child = await factories.make_patient(first_name='Max', last_name='Child', email='family@example.com')
    await enable_portal(child.id, staff, actor)  # enabled on the parent's address by mistake

    await disable_portal(child.id, staff, actor)
    await ensure_email_change_allowed(child.id, 'max@example.org')
    child.email = 'max@example.org'
    await save_patient(child)
    account = await enable_portal(child.id, staff, actor)
    await enable_portal(parent.id, staff, actor)

    assert account.active_email == 'max@example.org'
    assert await PortalAccount.filter(patient_id=child.id).count() == 1  # the same account row, re-enabled
    assert (await portal_status(parent.id)).active


async def test_every_step_is_audited_with_actor_and_client_address(db):
    staff, actor = await _staff_and_actor()
    patient = await factories.make_patient(email='jamie@example.com')
    await enable_portal(patient.id, staff, actor)
    await disable_portal(patient.id, staff, actor)
    await enable_portal(patient.id, staff, actor)

    events = await AuditEvent.filter(patient_id=patient.id).order_by('id')
    assert [e.action for e in events] == ['portal.enabled', 'portal.disabled', 'portal.enabled']
    for event in events:
        assert (event.actor_type, event.actor_id, event.actor_label) == ('staff', staff.id, 'Riley Front Desk')
        assert event.client_address == '10.0.0.7'
        assert event.object_type == 'portal_account'
    assert events[0].detail == {'login_email': 'jamie@example.com'}


async def test_refused_enable_changes_nothing(db):
    staff, actor = await _staff_and_actor()
    parent = await factories.make_patient(email='family@example.com')
    child = await factories.make_patient(email='family@example.com')
    await enable_portal(parent.id, staff, actor)
    with pytest.raises(PortalEmailInUse):
        await enable_portal(child.id, staff, actor)
    assert await AuditEvent.filter(patient_id=child.id).count() == 0
