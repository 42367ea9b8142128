"""Staff patient search (services.patients.search_patients) and the patient form's validation."""

from datetime import date

import pytest

from services import audit
from services.errors import DomainError
from services.patients import PatientInput, create_patient, search_patients, update_patient
from services.portal_access import LoginEmailLocked
from tests import factories

STAFF = audit.Actor('staff', None, 'Riley Front Desk')


def names(rows: list) -> list[str]:
    return [row.name for row in rows]


async def test_search_finds_a_patient_by_first_name_last_name_or_both(db):
    await factories.make_patient(first_name='Jamie', last_name='Rivera')
    await factories.make_patient(first_name='Jordan', last_name='Jameson')
    await factories.make_patient(first_name='Alex', last_name='Riverside')

    assert names(await search_patients('jamie')) == ['Rivera, Jamie']
    assert names(await search_patients('rivera')) == ['Rivera, Jamie']
    assert names(await search_patients('RIVER')) == ['Rivera, Jamie', 'Riverside, Alex']
    assert names(await search_patients('rivera, jamie')) == ['Rivera, Jamie']
    assert names(await search_patients('Rivera,Ja')) == ['Rivera, Jamie']
    assert names(await search_patients('jamie rivera')) == ['Rivera, Jamie']
    assert names(await search_patients('jam')) == ['Jameson, Jordan', 'Rivera, Jamie']


async def test_search_ignores_accents_apostrophes_and_hyphens(db):
    await factories.make_patient(first_name='Zoë', last_name="O'Brien-Smith")

    assert names(await search_patients('zoe')) == ["O'Brien-Smith, Zoë"]
    assert names(await search_patients("o'brien")) == ["O'Brien-Smith, Zoë"]
    assert names(await search_patients('obrien smith, zo')) == ["O'Brien-Smith, Zoë"]


async def test_search_finds_a_patient_by_email_in_any_case(db):
    patient = await factories.make_patient(email='Jamie.Rivera@Example.com')
    await factories.make_patient(email='jamie.riverside@example.com')

    found = await search_patients('  JAMIE.RIVERA@example.COM ')
    assert [row.id for row in found] == [patient.id]
    assert len(await search_patients('jamie.rivera@ex')) == 1
    assert len(await search_patients('jamie.rivers')) == 0


async def test_search_finds_a_patient_by_phone_however_it_is_typed(db):
    patient = await factories.make_patient(phone='(207) 555-0134')
    await factories.make_patient(phone='(207) 555-0199')

    for typed in ('2075550134', '207-555-0134', '(207) 555 0134', '+1 207 555 0134', '1-207-555-0134'):
        assert [row.id for row in await search_patients(typed)] == [patient.id], typed
    assert len(await search_patients('207 555')) == 2


async def test_search_finds_a_patient_by_date_of_birth_in_both_formats(db):
    patient = await factories.make_patient(date_of_birth=date(1985, 4, 12))
    await factories.make_patient(date_of_birth=date(1985, 4, 13))

    assert [row.id for row in await search_patients('1985-04-12')] == [patient.id]
    assert [row.id for row in await search_patients('04/12/1985')] == [patient.id]
    assert [row.id for row in await search_patients('4/12/1985')] == [patient.id]


async def test_search_results_carry_each_patients_portal_status(db):
    staff = await factories.make_staff()
    active = await factories.make_active_patient(staff, first_name='Ava', last_name='Stone')
    disabled = await factories.make_active_patient(staff, first_name='Ben', last_name='Stone')
    from services.portal_access import disable_portal

    await disable_portal(disabled.id, staff, STAFF)
    never = await factories.make_patient(first_name='Cal', last_name='Stone')

    status = {row.id: row.portal_status for row in await search_patients('stone')}
    assert status == {active.id: 'active', disabled.id: 'disabled', never.id: 'none'}


async def test_search_with_nothing_useful_returns_nothing(db):
    await factories.make_patient()
    assert await search_patients('') == []
    assert await search_patients('   ') == []
    assert await search_patients(',') == []
    assert await search_patients('zzzz') == []


async def test_search_returns_at_most_the_limit(db):
    for _ in range(5):
        await factories.make_patient(last_name='Many')
    assert len(await search_patients('many', limit=3)) == 3


async def test_new_patient_is_validated_and_audited(db):
    await factories.make_ready_practice()
    with pytest.raises(DomainError, match='first name'):
        await create_patient(PatientInput('', 'Rivera', '1985-04-12'), STAFF)
    with pytest.raises(DomainError, match='not a date'):
        await create_patient(PatientInput('Jamie', 'Rivera', '12.04.1985'), STAFF)
    with pytest.raises(DomainError, match='not a valid email'):
        await create_patient(PatientInput('Jamie', 'Rivera', '04/12/1985', email='jamie@'), STAFF)
    with pytest.raises(DomainError, match='not a valid phone number'):
        await create_patient(PatientInput('Jamie', 'Rivera', '04/12/1985', phone='555-12'), STAFF)

    patient = await create_patient(
        PatientInput('Jamie', 'Rivera', '04/12/1985', email=' Jamie@Example.com ', phone='207.555.0134'), STAFF
    )
    assert (patient.date_of_birth, patient.email, patient.phone) == (
        date(1985, 4, 12),
        'Jamie@Example.com',
        '(207) 555-0134',
    )
    assert [row.id for row in await search_patients('rivera, jamie')] == [patient.id]
    assert [e.action for e in await audit.events_for_patient(patient.id)] == ['patient.created']


async def test_editing_a_patient_records_which_fields_changed(db):
    patient = await factories.make_patient(first_name='Jamie', last_name='Rivera', phone='(207) 555-0134')
    data = PatientInput('Jamie', 'Rivera-Lopez', '1985-04-12', email=patient.email, phone='(207) 555-0134')

    await update_patient(patient.id, data, STAFF)

    assert names(await search_patients('rivera lopez')) == ['Rivera-Lopez, Jamie']
    [event] = await audit.events_for_patient(patient.id)
    assert (event.action, event.detail) == ('patient.updated', {'fields': ['last_name']})


async def test_login_email_cannot_change_while_the_portal_is_active(db):
    patient = await factories.make_active_patient(first_name='Jamie', last_name='Rivera')
    data = PatientInput('Jamie', 'Rivera', '1985-04-12', email='new.address@example.com')

    with pytest.raises(LoginEmailLocked):
        await update_patient(patient.id, data, STAFF)

    upper_case = PatientInput('Jamie', 'Rivera', '1985-04-12', email=patient.email.upper())
    await update_patient(patient.id, upper_case, STAFF)  # the same address in other letters is no change


async def test_an_old_invalid_phone_does_not_block_other_edits(db):
    patient = await factories.make_patient(phone='(555) 010-3000')  # not a valid US number
    data = PatientInput('Jamie', 'Changed', '1985-04-12', email=patient.email, phone='(555) 010-3000')
    assert (await update_patient(patient.id, data, STAFF)).last_name == 'Changed'


async def test_search_finds_a_phone_by_its_last_four_or_seven_digits(db):
    await factories.make_patient(first_name='Jamie', last_name='Rivera', phone='(207) 555-0134')
    await factories.make_patient(first_name='Alex', last_name='Chen', phone='(207) 555-0177')

    assert names(await search_patients('0134')) == ['Rivera, Jamie']
    assert names(await search_patients('555-0134')) == ['Rivera, Jamie']
    assert names(await search_patients('5550134')) == ['Rivera, Jamie']
    assert names(await search_patients('(207) 555-0134')) == ['Rivera, Jamie']
    assert sorted(names(await search_patients('207 555'))) == ['Chen, Alex', 'Rivera, Jamie']
    assert names(await search_patients('9999')) == []


async def test_a_changed_phone_is_found_by_its_new_ending_only(db):
    patient = await factories.make_patient(first_name='Jamie', last_name='Rivera', phone='(207) 555-0134')
    form = PatientInput(
        first_name='Jamie', last_name='Rivera', date_of_birth='1985-04-12', email=patient.email, phone='207-555-0188'
    )
    await update_patient(patient.id, form, STAFF)

    assert names(await search_patients('0188')) == ['Rivera, Jamie']
    assert names(await search_patients('0134')) == []
