"""Practice setup: what a new installation needs, each field's rule both ways, and the derived 'setup complete'."""

from decimal import Decimal

import pytest

from models.audit import AuditEvent
from models.practice import Location, Practice, Provider
from services import audit, locations, practice_setup, providers
from services.locations import LocationInput
from services.patients import PatientInput, create_patient
from services.practice_setup import PracticeDetails, PracticeInvalid, PracticeSettings
from services.providers import ProviderInput, ProviderInvalid
from services.setup_status import SetupIncomplete, setup_status
from tests import factories

ADMIN = audit.Actor('staff', 1, 'Ada Admin', '127.0.0.1')
DETAILS = PracticeDetails(name='Harbor Eye Care', phone='(802) 555-0100', time_zone='America/New_York')
PROVIDER = ProviderInput('Priya Raman', 'OD', 'OPT-0457', 'VT', '1234567893')


def details(**changes: str) -> PracticeDetails:
    return PracticeDetails(**{**DETAILS.__dict__, **changes})


def settings(**changes: object) -> PracticeSettings:
    values = dict(
        spectacle_expiry_months=24,
        eyewear_sales_exemption=False,
        reminder_lead_hours=48,
        sales_tax_percent='6.25',
        payment_url='',
    )
    return PracticeSettings(**{**values, **changes})


# -- setup status -------------------------------------------------------------------------------------


async def test_an_empty_installation_lists_everything_setup_still_needs(db):
    status = await setup_status()
    assert not status.complete
    assert status.missing == ('a name', 'a phone number', 'a time zone', 'an active location', 'an active provider')
    assert status.sentence() == (
        'Setup is not finished: the practice still needs a name, a phone number, a time zone, '
        'an active location and an active provider.'
    )


async def test_setup_is_complete_with_details_an_active_location_and_an_active_provider(db):
    await practice_setup.save_practice(DETAILS, ADMIN)
    assert (await setup_status()).missing == ('an active location', 'an active provider')
    location = await locations.add_location(LocationInput('Main office'), ADMIN)
    assert (await setup_status()).missing == ('an active provider',)
    await providers.add_provider(PROVIDER, ADMIN)
    status = await setup_status()
    assert status.complete and status.practice is not None and status.practice.name == 'Harbor Eye Care'

    await locations.add_location(LocationInput('Second office'), ADMIN)
    await locations.set_location_active(location.id, False, ADMIN)
    assert (await setup_status()).complete  # the other location is still active


async def test_inactive_locations_and_providers_do_not_complete_setup(db):
    practice = await factories.make_practice()
    await factories.make_location(practice, is_active=False)
    await factories.make_provider(practice, is_active=False)
    assert (await setup_status()).missing == ('an active location', 'an active provider')


async def test_a_patient_cannot_be_added_before_setup_and_is_told_what_is_missing(db):
    practice = await factories.make_practice()
    await factories.make_location(practice)
    with pytest.raises(SetupIncomplete, match='still needs an active provider'):
        await create_patient(PatientInput('Ada', 'Lovelace', '1985-12-10'), ADMIN)
    await factories.make_provider(practice)
    patient = await create_patient(PatientInput('Ada', 'Lovelace', '1985-12-10'), ADMIN)
    assert patient.practice_id == practice.id


# -- the practice -------------------------------------------------------------------------------------


async def test_the_first_save_creates_the_practice_and_later_saves_update_it_with_audit_rows(db):
    practice = await practice_setup.save_practice(
        details(fax='802 555 0199', tax_id='123456789', address_line1='418 Elm Street', city='Burlington',
                state='vermont', postal_code='05401'),
        ADMIN,
    )  # fmt: skip
    assert (practice.fax, practice.tax_id, practice.state) == ('(802) 555-0199', '12-3456789', 'VT')
    assert practice.phone == '(802) 555-0100'
    await practice_setup.save_practice(details(name='Harbor Eye Care & Optical', time_zone='America/Chicago'), ADMIN)
    assert await Practice.all().count() == 1
    stored = await Practice.get(id=practice.id)
    assert (stored.name, stored.time_zone) == ('Harbor Eye Care & Optical', 'America/Chicago')
    created = await AuditEvent.get(action='practice.created')
    assert created.actor_id == 1 and created.object_id == practice.id
    updated = await AuditEvent.get(action='practice.updated')
    assert {'name', 'time_zone'} <= set(updated.detail['changed'])


async def test_saving_unchanged_details_writes_no_audit_row(db):
    await practice_setup.save_practice(DETAILS, ADMIN)
    await practice_setup.save_practice(DETAILS, ADMIN)
    assert await AuditEvent.filter(object_type='practice').count() == 1


@pytest.mark.parametrize('zone', ['America/New_York', 'America/Phoenix', 'Pacific/Honolulu', 'UTC'])
async def test_any_iana_time_zone_is_accepted(db, zone):
    assert (await practice_setup.save_practice(details(time_zone=zone), ADMIN)).time_zone == zone


@pytest.mark.parametrize(
    ('zone', 'message'),
    [
        ('', 'Please choose the time zone'),
        ('Eastern', '"Eastern" is not a time zone'),
        ('America/Springfield', 'is not a time zone'),
    ],
)
async def test_an_unknown_time_zone_is_refused(db, zone, message):
    with pytest.raises(PracticeInvalid, match=message):
        await practice_setup.save_practice(details(time_zone=zone), ADMIN)
    assert not await Practice.exists()


def test_the_time_zone_list_comes_from_zoneinfo_sorted():
    zones = practice_setup.time_zones()
    assert 'America/New_York' in zones and list(zones) == sorted(zones)


@pytest.mark.parametrize(
    ('changes', 'message'),
    [
        ({'name': '  '}, 'Please enter the practice name'),
        ({'phone': ''}, 'Please enter the practice phone number'),
        ({'phone': '555-12'}, 'Practice phone number: "555-12" is not a valid phone number'),
        ({'fax': '12'}, 'Fax number: "12" is not a valid phone number'),
        ({'tax_id': '12-345'}, 'EIN: nine digits'),
        ({'state': 'Narnia'}, '"Narnia" is not a US state'),
        ({'postal_code': '5401'}, 'ZIP code should have five digits'),
        ({'name': 'x' * 201}, 'at most 200 characters'),
    ],
)
async def test_practice_details_are_refused_with_a_sentence_that_says_what_to_fix(db, changes, message):
    with pytest.raises(PracticeInvalid, match=message):
        await practice_setup.save_practice(details(**changes), ADMIN)


# -- practice settings ----------------------------------------------------------------------------------


async def test_settings_are_saved_and_audited(db):
    await practice_setup.save_practice(DETAILS, ADMIN)
    practice = await practice_setup.save_settings(
        settings(spectacle_expiry_months='12', eyewear_sales_exemption=True, reminder_lead_hours=24.0,
                 sales_tax_percent='6.875%', payment_url='https://pay.example.com/harbor'),
        ADMIN,
    )  # fmt: skip
    stored = await Practice.get(id=practice.id)
    assert stored.spectacle_expiry_months == 12 and stored.eyewear_sales_exemption
    assert stored.reminder_lead_hours == 24 and stored.sales_tax_percent == Decimal('6.875')
    assert stored.payment_url == 'https://pay.example.com/harbor'
    event = await AuditEvent.get(action='practice.settings_changed')
    assert 'eyewear_sales_exemption' in event.detail['changed']


@pytest.mark.parametrize(
    ('changes', 'message'),
    [
        ({'spectacle_expiry_months': 0}, 'spectacle prescription expiry should be between 1 and 120 months'),
        ({'spectacle_expiry_months': '18.5'}, 'should be a whole number of months'),
        ({'spectacle_expiry_months': None}, 'should be a whole number of months'),
        ({'reminder_lead_hours': 400}, 'reminder lead time should be between 1 and 336 hours'),
        ({'reminder_lead_hours': 'two days'}, 'whole number of hours'),
        ({'sales_tax_percent': '-1'}, 'between 0% and 25%'),
        ({'sales_tax_percent': 'six'}, 'should be a percentage'),
        ({'sales_tax_percent': '6.1234'}, 'at most three decimals'),
        ({'payment_url': 'http://pay.example.com'}, 'starting with https://'),
        ({'payment_url': 'pay.example.com'}, 'starting with https://'),
    ],
)
async def test_settings_out_of_range_are_refused_with_a_clear_message(db, changes, message):
    await practice_setup.save_practice(DETAILS, ADMIN)
    with pytest.raises(PracticeInvalid, match=message):
        await practice_setup.save_settings(settings(**changes), ADMIN)
    assert (await Practice.first()).sales_tax_percent == Decimal('0')


async def test_settings_need_the_practice_first(db):
    with pytest.raises(PracticeInvalid, match='name, phone number and time zone first'):
        await practice_setup.save_settings(settings(), ADMIN)


# -- locations ----------------------------------------------------------------------------------------


async def test_locations_are_added_edited_and_deactivated_with_audit_rows(db):
    await practice_setup.save_practice(DETAILS, ADMIN)
    main = await locations.add_location(LocationInput(' Main  office ', '418 Elm Street', '802-555-0100'), ADMIN)
    assert (main.name, main.phone) == ('Main office', '(802) 555-0100')
    await locations.update_location(main.id, LocationInput('Elm Street office', '418 Elm Street'), ADMIN)
    second = await locations.add_location(LocationInput('Dorset Plaza'), ADMIN)
    await locations.set_location_active(main.id, False, ADMIN)
    assert [loc.name for loc in await locations.list_locations()] == ['Dorset Plaza', 'Elm Street office']
    assert [loc.id for loc in await locations.list_locations(active_only=True)] == [second.id]
    await locations.set_location_active(main.id, True, ADMIN)
    actions = await AuditEvent.filter(object_type='location').order_by('id').values_list('action', flat=True)
    assert actions == [
        'location.added', 'location.updated', 'location.added', 'location.deactivated', 'location.reactivated'
    ]  # fmt: skip


@pytest.mark.parametrize(
    ('data', 'message'),
    [
        (LocationInput(''), 'Please enter a name for the location'),
        (LocationInput('Main office', phone='12'), 'Location phone: "12" is not a valid phone number'),
        (LocationInput('Main office', address='x' * 301), 'at most 300 characters'),
    ],
)
async def test_a_location_with_a_wrong_field_is_refused(db, data, message):
    await practice_setup.save_practice(DETAILS, ADMIN)
    with pytest.raises(locations.LocationInvalid, match=message):
        await locations.add_location(data, ADMIN)
    assert not await Location.exists()


async def test_two_active_locations_cannot_share_a_name(db):
    await practice_setup.save_practice(DETAILS, ADMIN)
    await locations.add_location(LocationInput('Main office'), ADMIN)
    with pytest.raises(locations.LocationInvalid, match='already an active location named "Main office"'):
        await locations.add_location(LocationInput('Main office'), ADMIN)


async def test_the_last_active_location_cannot_be_deactivated(db):
    await practice_setup.save_practice(DETAILS, ADMIN)
    only = await locations.add_location(LocationInput('Main office'), ADMIN)
    with pytest.raises(locations.LocationInvalid, match='only active location'):
        await locations.set_location_active(only.id, False, ADMIN)
    assert (await Location.get(id=only.id)).is_active


async def test_locations_and_providers_need_the_practice_first(db):
    with pytest.raises(locations.LocationInvalid, match='before adding locations'):
        await locations.add_location(LocationInput('Main office'), ADMIN)
    with pytest.raises(ProviderInvalid, match='before adding providers'):
        await providers.add_provider(PROVIDER, ADMIN)


# -- providers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize('npi', ['1234567893', '1679543219', '1548263791', '1932874567'])
def test_an_npi_with_the_right_check_digit_passes(npi):
    assert providers.npi_check_digit_ok(npi)
    assert providers.validated_npi(npi) == npi


@pytest.mark.parametrize('npi', ['1234567890', '1234567894', '1679543210', '2234567893'])
def test_an_npi_with_a_wrong_check_digit_fails(npi):
    assert not providers.npi_check_digit_ok(npi)
    with pytest.raises(ProviderInvalid, match='is not a valid NPI: its last digit does not match'):
        providers.validated_npi(npi)


@pytest.mark.parametrize('npi', ['123456789', '12345678931', '12345678AB'])
def test_an_npi_must_have_ten_digits(npi):
    with pytest.raises(ProviderInvalid, match='exactly ten digits'):
        providers.validated_npi(npi)


def test_an_npi_may_be_typed_with_spaces_or_left_blank():
    assert providers.validated_npi(' 123 456 7893 ') == '1234567893'
    assert providers.validated_npi('') == ''


async def test_providers_are_added_edited_and_deactivated_with_audit_rows(db):
    await practice_setup.save_practice(DETAILS, ADMIN)
    raman = await providers.add_provider(PROVIDER, ADMIN)
    assert (raman.credentials, raman.licence_number, raman.licence_state, raman.npi) == (
        'OD', 'OPT-0457', 'VT', '1234567893'
    )  # fmt: skip
    await providers.update_provider(
        raman.id, ProviderInput('Priya Raman', 'OD, FAAO', 'OPT-0457', 'Vermont', '1234567893'), ADMIN
    )
    assert (await Provider.get(id=raman.id)).credentials == 'OD, FAAO'
    bell = await providers.add_provider(ProviderInput('Marcus Bell', 'MD', 'MD-042', 'NH'), ADMIN)
    await providers.set_provider_active(raman.id, False, ADMIN)
    assert [p.id for p in await providers.list_providers(active_only=True)] == [bell.id]
    actions = await AuditEvent.filter(object_type='provider').order_by('id').values_list('action', flat=True)
    assert actions == ['provider.added', 'provider.updated', 'provider.added', 'provider.deactivated']


@pytest.mark.parametrize(
    ('data', 'message'),
    [
        (ProviderInput('', 'OD', 'OPT-1', 'VT'), "enter the provider's name"),
        (ProviderInput('Priya Raman', '', 'OPT-1', 'VT'), 'credentials, such as OD or MD'),
        (ProviderInput('Priya Raman', 'OD', '', 'VT'), 'Please enter the license number'),
        (ProviderInput('Priya Raman', 'OD', 'OPT-1', ''), 'state that issued the license'),
        (ProviderInput('Priya Raman', 'OD', 'OPT-1', 'XX'), 'state that issued the license'),
        (ProviderInput('Priya Raman', 'OD', 'OPT-1', 'VT', '1234567890'), 'is not a valid NPI'),
    ],
)
async def test_a_provider_with_a_wrong_field_is_refused(db, data, message):
    await practice_setup.save_practice(DETAILS, ADMIN)
    with pytest.raises(ProviderInvalid, match=message):
        await providers.add_provider(data, ADMIN)
    assert not await Provider.exists()


async def test_two_providers_cannot_share_an_npi(db):
    await practice_setup.save_practice(DETAILS, ADMIN)
    await providers.add_provider(PROVIDER, ADMIN)
    with pytest.raises(ProviderInvalid, match='NPI 1234567893 already belongs to Priya Raman'):
        await providers.add_provider(ProviderInput('Marcus Bell', 'MD', 'MD-042', 'NH', '1234567893'), ADMIN)


async def test_the_last_active_provider_cannot_be_deactivated(db):
    await practice_setup.save_practice(DETAILS, ADMIN)
    only = await providers.add_provider(PROVIDER, ADMIN)
    with pytest.raises(ProviderInvalid, match='only active provider'):
        await providers.set_provider_active(only.id, False, ADMIN)
    assert (await Provider.get(id=only.id)).is_active
