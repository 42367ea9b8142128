"""The Prescriptions section of the Patient Profile: write, sign, supersede, void, consent, paper release."""

from datetime import timedelta

from nicegui import ui
from nicegui.testing import User

import pages.staff  # noqa: F401  (imported before the first simulated app: see below)
from models.audit import AuditEvent
from models.consent import DigitalDeliveryConsent, ReleaseConfirmation
from models.prescription import Prescription, RxStatus
from services import audit, prescriptions, rx_lifecycle
from services.rx_validation import EyeInput, RxInput
from tests import factories
from tests.portal_user import wait_until
from tests.test_staff_console import open_profile, staff_sign_in


async def _prescriber_signed_in(user: User):
    practice = await factories.make_practice(fax='(555) 010-2001')
    provider = await factories.make_provider(practice)
    staff = await factories.make_staff('admin', name='Riley Front Desk')
    staff.provider = provider
    await staff.save(update_fields=['provider_id'])
    patient = await factories.make_patient(practice)
    await staff_sign_in(user, staff)
    return provider, staff, patient


def _type(user: User, marker: str, text: str) -> None:
    user.find(marker=marker).clear().type(text)


async def _signed_distance(patient, provider, staff, sphere: str = '-1.00') -> Prescription:
    form = RxInput(
        kind='spectacle',
        provider_id=provider.id,
        exam_date=factories.today() - timedelta(days=400),
        issue_date=factories.today() - timedelta(days=400),
        purpose='distance',
        eyes={'OD': EyeInput(sphere=sphere), 'OS': EyeInput(sphere=sphere)},
    )
    actor = audit.Actor.staff(staff)
    draft = await rx_lifecycle.save_draft(patient.id, form, actor, staff=staff)
    return (await rx_lifecycle.sign(draft.id, staff, actor)).prescription


async def test_staff_write_a_glasses_rx_see_the_rule_they_broke_then_sign_and_record_paper_receipt(user: User):
    provider, staff, patient = await _prescriber_signed_in(user)
    await open_profile(user, patient)
    await user.should_see('No digital delivery consent')
    user.find('New glasses Rx').click()
    await user.should_see('New glasses prescription')
    _type(user, 'OD-sphere', '-2.25')
    _type(user, 'OD-axis', '90')  # an axis without a cylinder
    _type(user, 'OS-sphere', 'PL')
    _type(user, 'pd', '63')
    user.find('Save draft').click()
    await user.should_see('Right eye (OD): an axis is only written with a cylinder')
    assert not await Prescription.exists(patient_id=patient.id)

    _type(user, 'OD-cylinder', '-0.75')
    user.find('Save and sign').click()
    await user.should_see('Print it for the patient', retries=100)  # no consent: paper release
    rx = await Prescription.get(patient_id=patient.id)
    assert (rx.status, rx.signed_by_id, str(rx.pd_binocular)) == (RxStatus.FINAL, staff.id, '63.0')
    user.find('Patient signed').click()
    await wait_until(ReleaseConfirmation.filter(prescription_id=rx.id, kind='signed').exists)
    await user.should_see('Signed by Riley Front Desk')


async def test_signing_a_second_distance_rx_asks_before_replacing_the_current_one(user: User):
    provider, staff, patient = await _prescriber_signed_in(user)
    await factories.give_consent(patient)
    old = await _signed_distance(patient, provider, staff)
    form = RxInput(
        kind='spectacle',
        provider_id=provider.id,
        exam_date=factories.today(),
        purpose='distance',
        eyes={'OD': EyeInput(sphere='-1.50'), 'OS': EyeInput(sphere='-1.25')},
    )
    draft = await rx_lifecycle.save_draft(patient.id, form, audit.Actor.staff(staff), staff=staff)
    await open_profile(user, patient)
    await user.should_see('Digital delivery consent on file')
    user.find(marker=f'rx-sign-{draft.id}').click()
    await user.should_see('Replace the current prescription?')
    assert (await Prescription.get(id=old.id)).status == RxStatus.FINAL  # nothing changes before the answer
    user.find('Sign and replace').click()
    await wait_until(Prescription.filter(id=old.id, status=RxStatus.SUPERSEDED).exists)
    await user.should_see('Replaced')


async def test_a_contact_lens_rx_form_refuses_a_short_expiry_without_reason(user: User):
    provider, staff, patient = await _prescriber_signed_in(user)
    await open_profile(user, patient)
    user.find('New contact lens Rx').click()
    await user.should_see('New contact lens prescription')
    for eye in ('OD', 'OS'):
        _type(user, f'{eye}-sphere', '-3.00')
        _type(user, f'{eye}-base_curve', '8.6')
        _type(user, f'{eye}-diameter', '14.2')
        _type(user, f'{eye}-brand', 'Biofinity')
    _type(user, 'replacement', 'Monthly')
    user.find(kind=ui.input, content='Expiry date').type((factories.today() + timedelta(days=90)).isoformat())
    user.find('Save draft').click()
    await user.should_see('A contact lens Rx expires at least one year after it is issued')
    user.find(kind=ui.input, content='Medical reason').type('Corneal edema: review in 3 months')
    user.find('Save draft').click()
    await user.should_see('Draft saved')
    rx = await Prescription.get(patient_id=patient.id)
    assert (rx.kind, rx.status, rx.replacement_schedule) == ('contact_lens', RxStatus.DRAFT, 'Monthly')


async def test_only_the_linked_prescriber_sees_sign_and_void_needs_a_reason(user: User):
    practice = await factories.make_practice()
    provider = await factories.make_provider(practice)
    prescriber = await factories.make_prescriber(provider)
    patient = await factories.make_patient(practice)
    form = RxInput(
        kind='spectacle',
        provider_id=provider.id,
        exam_date=factories.today(),
        purpose='near',
        eyes={'OD': EyeInput(sphere='+1.00'), 'OS': EyeInput(sphere='+1.00')},
    )
    draft = await rx_lifecycle.save_draft(patient.id, form, audit.Actor.staff(prescriber))
    await staff_sign_in(user)  # front desk, not linked to the provider
    await open_profile(user, patient)
    await user.should_see('Draft')
    await user.should_not_see(marker=f'rx-sign-{draft.id}')
    user.find(marker=f'rx-void-{draft.id}').click()
    await user.should_see('Void this prescription?')
    user.find(marker='void-confirm').click()
    await user.should_see('Say why this prescription is void')
    _type(user, 'void-reason', 'Duplicate entry')
    user.find(marker='void-confirm').click()
    await wait_until(Prescription.filter(id=draft.id, status=RxStatus.VOID, void_reason='Duplicate entry').exists)


async def test_staff_record_consent_given_in_the_office(user: User):
    _, staff, patient = await _prescriber_signed_in(user)
    await open_profile(user, patient)
    user.find('Record consent').click()
    await user.should_see('Consent to digital delivery')
    user.find(marker='consent-save').click()
    await wait_until(DigitalDeliveryConsent.filter(patient_id=patient.id, method='in_office').exists)
    consent = await DigitalDeliveryConsent.get(patient_id=patient.id)
    assert (consent.recorded_by_id, consent.recorded_by_label) == (staff.id, staff.name)
    await user.should_see('Digital delivery consent on file: signed in the office')


# The staff router's plain GET route went missing from the second simulated app onwards when the
# pages package was first imported inside a `user` simulation; importing it at collection avoids that.
async def test_staff_pdf_is_a_one_page_copy_and_is_audited(user: User):
    provider, staff, patient = await _prescriber_signed_in(user)
    rx = await _signed_distance(patient, provider, staff)
    response = await user.http_client.get(f'/staff/rx/{rx.id}.pdf')
    assert response.status_code == 200 and response.content.startswith(b'%PDF')
    assert await AuditEvent.filter(action='rx.staff_printed', object_id=rx.id).exists()
    assert (await user.http_client.get('/staff/rx/999999.pdf')).status_code == 404


async def test_admin_sees_release_evidence_for_a_patient_and_exports_csv(user: User):
    provider, staff, patient = await _prescriber_signed_in(user)
    await factories.give_consent(patient)
    rx = await _signed_distance(patient, provider, staff)
    document = await prescriptions.prescription_for(patient.id, rx.id)
    for action in ('rx.viewed', 'rx.downloaded'):
        await prescriptions.record_release(document, action, audit.Actor.patient(1))
    await user.open(f'/staff/release-evidence?patient={patient.id}')
    await user.should_see('Release evidence')
    table = user.find(kind=ui.table).elements.pop()
    [row] = table.rows
    assert (row['patient'], row['viewed'], row['downloaded'], row['status']) == (
        f'{patient.full_name} (#{patient.id})',
        1,
        1,
        'Signed',
    )
    assert row['made_available'] and row['consent'].startswith('Signed in the office')
    response = await user.http_client.get(f'/staff/release-evidence.csv?patient={patient.id}')
    assert response.status_code == 200 and response.text.startswith('rx_id,patient')
    assert f'\n{rx.id},{patient.full_name},' in response.text


async def test_front_desk_cannot_open_release_evidence(user: User):
    staff = await factories.make_staff('staff', name='Sam Desk')
    await user.open('/staff/login')
    user.find(kind=ui.input, content='Email').type(staff.email)
    user.find(kind=ui.input, content='Password').type(factories.STAFF_PASSWORD)
    user.find(kind=ui.button, content='Sign in').click()
    await user.should_see('Sam Desk (staff)', retries=100)
    response = await user.http_client.get('/staff/release-evidence.csv')
    assert response.status_code == 403
