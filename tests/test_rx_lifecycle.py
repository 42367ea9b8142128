"""The Rx lifecycle: draft -> final (signed by the linked prescriber) -> superseded | void; and its release evidence."""

from datetime import timedelta

import pytest

from models.audit import AuditEvent
from models.prescription import Prescription, RxStatus
from services import audit, events, prescriptions, rx_lifecycle, rx_release
from services.errors import NotFound
from services.rx_lifecycle import NotThePrescriber, PrescriptionLocked, SupersedeConfirmationNeeded
from services.rx_release import ConsentError
from services.rx_validation import EyeInput, InvalidPrescription, RxInput
from tests import factories
from tests.portal_user import wait_until


def glasses(provider_id: int, purpose: str = 'distance', sphere: str = '-1.75', **fields: object) -> RxInput:
    eye = EyeInput(sphere=sphere, cylinder='-0.50', axis='175', add='+1.25')
    return RxInput(
        kind='spectacle',
        provider_id=provider_id,
        exam_date=factories.today() - timedelta(days=1),
        purpose=purpose,
        pd_binocular='62',
        eyes={'OD': eye, 'OS': EyeInput(sphere='PL')},
        **fields,
    )


async def setup() -> tuple:
    practice = await factories.make_practice()
    provider = await factories.make_provider(practice)
    prescriber = await factories.make_prescriber(provider)
    patient = await factories.make_patient(practice)
    return practice, provider, prescriber, patient


async def test_a_draft_is_invisible_to_the_patient_and_can_be_changed(db):
    _, provider, prescriber, patient = await setup()
    await factories.give_consent(patient)
    actor = audit.Actor.staff(prescriber)
    rx = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), actor, staff=prescriber)
    assert rx.status == RxStatus.DRAFT
    assert await prescriptions.prescriptions_for(patient.id) == []
    with pytest.raises(NotFound):
        await prescriptions.prescription_for(patient.id, rx.id)

    changed = await rx_lifecycle.save_draft(patient.id, glasses(provider.id, sphere='-2.00'), actor, rx_id=rx.id)
    await changed.fetch_related('eyes')
    assert sorted(str(e.sphere) for e in changed.eyes) == ['-2.00', '0.00']
    assert await AuditEvent.filter(action='rx.draft_changed', object_id=rx.id).exists()


async def test_signing_records_who_and_when_and_makes_it_available(db):
    _, provider, prescriber, patient = await setup()
    await factories.give_consent(patient)
    actor = audit.Actor.staff(prescriber)
    heard: list[events.Event] = []

    async def listen(event: events.Event) -> None:
        heard.append(event)

    events.subscribe(patient.id, listen)
    rx = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), actor, staff=prescriber)
    result = await rx_lifecycle.sign(rx.id, prescriber, actor)
    assert result.prescription.status == RxStatus.FINAL
    assert result.prescription.signed_by_id == prescriber.id
    assert result.prescription.signed_at is not None
    assert not result.paper_confirmation_needed
    made = await AuditEvent.get(action='rx.made_available', object_id=rx.id)
    assert made.detail['portal'] is True
    assert [p.id for p in await prescriptions.prescriptions_for(patient.id)] == [rx.id]

    async def heard_prescriptions() -> bool:
        return any(e.topic == events.PRESCRIPTIONS for e in heard)

    await wait_until(heard_prescriptions)
    document = await prescriptions.prescription_for(patient.id, rx.id)
    assert document.signature.startswith(f'Electronically signed by {provider.name}, OD, on ')


async def test_a_final_rx_cannot_be_edited_or_signed_again(db):
    _, provider, prescriber, patient = await setup()
    actor = audit.Actor.staff(prescriber)
    rx = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), actor)
    await rx_lifecycle.sign(rx.id, prescriber, actor)
    with pytest.raises(PrescriptionLocked, match='is signed and can no longer be changed'):
        await rx_lifecycle.save_draft(patient.id, glasses(provider.id, sphere='-3.00'), actor, rx_id=rx.id)
    with pytest.raises(PrescriptionLocked):
        await rx_lifecycle.sign(rx.id, prescriber, actor)
    await rx.refresh_from_db()
    await rx.fetch_related('eyes')
    assert '-1.75' in [str(e.sphere) for e in rx.eyes]


async def test_only_the_staff_account_linked_to_the_provider_signs(db):
    practice, provider, _, patient = await setup()
    front_desk = await factories.make_staff('admin')
    other = await factories.make_prescriber(await factories.make_provider(practice, name='Sam Ortiz'))
    rx = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), audit.Actor.staff(front_desk))
    for staff in (front_desk, other):
        with pytest.raises(NotThePrescriber, match=f'linked to {provider.name}, OD'):
            await rx_lifecycle.sign(rx.id, staff, audit.Actor.staff(staff))
    assert (await Prescription.get(id=rx.id)).status == RxStatus.DRAFT


async def test_signing_supersedes_the_current_rx_of_the_same_kind_and_purpose_after_confirmation(db):
    _, provider, prescriber, patient = await setup()
    await factories.give_consent(patient)
    actor = audit.Actor.staff(prescriber)
    old_distance = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), actor)
    await rx_lifecycle.sign(old_distance.id, prescriber, actor)
    computer = await rx_lifecycle.save_draft(patient.id, glasses(provider.id, purpose='computer'), actor)
    await rx_lifecycle.sign(computer.id, prescriber, actor)  # a different purpose: no question asked

    new_distance = await rx_lifecycle.save_draft(patient.id, glasses(provider.id, sphere='-2.25'), actor)
    with pytest.raises(SupersedeConfirmationNeeded) as asked:
        await rx_lifecycle.sign(new_distance.id, prescriber, actor)
    assert [rx.id for rx in asked.value.current] == [old_distance.id]
    result = await rx_lifecycle.sign(new_distance.id, prescriber, actor, confirm_supersede=True)

    assert [rx.id for rx in result.superseded] == [old_distance.id]
    old = await Prescription.get(id=old_distance.id)
    assert (old.status, old.superseded_by_id) == (RxStatus.SUPERSEDED, new_distance.id)
    assert (await Prescription.get(id=computer.id)).status == RxStatus.FINAL
    shown = await prescriptions.prescriptions_for(patient.id)
    assert [rx.status for rx in shown] == [RxStatus.FINAL, RxStatus.FINAL, RxStatus.SUPERSEDED]
    assert shown[-1].id == old_distance.id  # replaced ones below the current ones
    assert (await prescriptions.prescription_for(patient.id, old_distance.id)).is_replaced


async def test_void_needs_a_reason_and_hides_the_rx_from_the_patient(db):
    _, provider, prescriber, patient = await setup()
    await factories.give_consent(patient)
    actor = audit.Actor.staff(prescriber)
    rx = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), actor)
    await rx_lifecycle.sign(rx.id, prescriber, actor)
    with pytest.raises(rx_lifecycle.InvalidVoid, match='Say why'):
        await rx_lifecycle.void(rx.id, '  ', actor)
    voided = await rx_lifecycle.void(rx.id, 'Entered for the wrong patient', actor)
    assert (voided.status, voided.void_reason) == (RxStatus.VOID, 'Entered for the wrong patient')
    assert await prescriptions.prescriptions_for(patient.id) == []
    assert (await AuditEvent.get(action='rx.voided', object_id=rx.id)).detail['was'] == 'final'
    with pytest.raises(PrescriptionLocked, match='is void'):
        await rx_lifecycle.void(rx.id, 'again', actor)


async def test_invalid_values_are_refused_before_anything_is_written(db):
    _, provider, prescriber, patient = await setup()
    form = glasses(provider.id)
    form.eyes['OD'].axis = '200'
    with pytest.raises(InvalidPrescription, match='Right eye \\(OD\\): the axis must be a whole number from 1 to 180'):
        await rx_lifecycle.save_draft(patient.id, form, audit.Actor.staff(prescriber))
    assert await Prescription.filter(patient_id=patient.id).count() == 0


async def test_a_prescriber_of_another_practice_or_inactive_is_refused(db):
    _, provider, prescriber, patient = await setup()
    provider.is_active = False
    await provider.save()
    with pytest.raises(InvalidPrescription, match='still active'):
        await rx_lifecycle.save_draft(patient.id, glasses(provider.id), audit.Actor.staff(prescriber))


async def test_spectacle_expiry_follows_the_practice_setting(db):
    practice, provider, prescriber, patient = await setup()
    practice.spectacle_expiry_months = 12
    await practice.save()
    rx = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), audit.Actor.staff(prescriber))
    assert rx.expiry_date.year == rx.issue_date.year + 1


async def test_without_consent_the_portal_shows_nothing_and_staff_are_asked_for_paper_confirmation(db):
    _, provider, prescriber, patient = await setup()
    actor = audit.Actor.staff(prescriber)
    rx = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), actor)
    result = await rx_lifecycle.sign(rx.id, prescriber, actor)
    assert result.paper_confirmation_needed
    with pytest.raises(NotFound):
        await prescriptions.prescription_for(patient.id, rx.id)
    await rx_release.record_confirmation(rx.id, 'refused', actor, staff=prescriber, note='Declined to sign')

    consent = await rx_release.record_consent(patient.id, 'portal', audit.Actor.patient(1))
    assert consent.method.value == 'portal'
    assert (await prescriptions.prescription_for(patient.id, rx.id)).consent_on_file
    rows = await rx_release.release_evidence(patient_id=patient.id)
    assert [row.prescription.id for row in rows] == [rx.id]
    assert [c.kind.value for c in rows[0].confirmations] == ['refused']
    assert rows[0].count('rx.made_available') == 1
    assert rows[0].consent.id == consent.id


async def test_the_exemption_releases_without_consent(db):
    practice, provider, prescriber, patient = await setup()
    practice.eyewear_sales_exemption = True
    await practice.save()
    actor = audit.Actor.staff(prescriber)
    rx = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), actor)
    assert not (await rx_lifecycle.sign(rx.id, prescriber, actor)).paper_confirmation_needed
    document = await prescriptions.prescription_for(patient.id, rx.id)
    assert not document.consent_on_file  # so the copy does not claim "no in-office signature needed"


async def test_consent_by_phone_needs_the_staff_member_and_a_known_method(db):
    _, _, prescriber, patient = await setup()
    with pytest.raises(ConsentError, match='recorded by a staff member'):
        await rx_release.record_consent(patient.id, 'phone', audit.Actor.staff(prescriber))
    with pytest.raises(ConsentError, match='Choose how the patient gave consent'):
        await rx_release.record_consent(patient.id, 'telepathy', audit.Actor.staff(prescriber), staff=prescriber)
    consent = await rx_release.record_consent(patient.id, 'phone', audit.Actor.staff(prescriber), staff=prescriber)
    assert (consent.recorded_by_label, consent.given_at is not None) == (prescriber.name, True)
    assert await AuditEvent.filter(action='rx.consent_recorded', patient_id=patient.id).count() == 1


async def test_evidence_lists_views_prints_and_downloads_and_exports_csv(db):
    _, provider, prescriber, patient = await setup()
    await factories.give_consent(patient)
    actor = audit.Actor.staff(prescriber)
    rx = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), actor)
    await rx_lifecycle.sign(rx.id, prescriber, actor)
    document = await prescriptions.prescription_for(patient.id, rx.id)
    patient_actor = audit.Actor.patient(7)
    for action in ('rx.viewed', 'rx.printed', 'rx.downloaded', 'rx.downloaded'):
        await prescriptions.record_release(document, action, patient_actor)
    await prescriptions.record_list_view(patient.id, [rx], patient_actor)
    draft = await rx_lifecycle.save_draft(patient.id, glasses(provider.id, purpose='near'), actor)

    rows = await rx_release.release_evidence(
        issued_from=factories.today() - timedelta(days=1), issued_to=factories.today()
    )
    assert [row.prescription.id for row in rows] == [rx.id]  # never a draft
    row = rows[0]
    assert (
        row.count('rx.viewed'),
        row.count('rx.list_viewed'),
        row.count('rx.printed'),
        row.count('rx.downloaded'),
    ) == (
        1,
        1,
        1,
        2,
    )
    text = rx_release.evidence_csv(rows)
    header, line = text.splitlines()
    assert header.startswith('rx_id,patient,date_of_birth')
    assert line.startswith(f'{rx.id},{patient.full_name},')
    assert ',2,1,2,' in line  # viewed (page + list), printed, downloaded
    assert draft.id not in [r.prescription.id for r in await rx_release.release_evidence(patient_id=patient.id)]


def test_csv_cells_cannot_start_a_spreadsheet_formula():
    assert rx_release._safe('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
