"""Verifiable prescriptions: a code from signing, status per lifecycle state, withdrawal, and one answer for
unknown and withdrawn codes."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from models.audit import AuditEvent
from models.verification import RxVerificationCode
from services import audit, rx_lifecycle, rx_release, rx_verification, throttle, verification_codes
from tests import factories
from tests.test_rx_lifecycle import glasses, setup

VIEWER = '203.0.113.7'


async def signed_rx(prescriber, provider, patient, **fields):
    actor = audit.Actor.staff(prescriber)
    draft = await rx_lifecycle.save_draft(patient.id, glasses(provider.id, **fields), actor, staff=prescriber)
    return (await rx_lifecycle.sign(draft.id, prescriber, actor, confirm_supersede=True)).prescription


async def test_signing_gives_the_rx_one_shared_code(db):
    _, provider, prescriber, patient = await setup()
    rx = await signed_rx(prescriber, provider, patient)
    codes = await RxVerificationCode.filter(prescription_id=rx.id)
    assert len(codes) == 1 and codes[0].withdrawn_at is None
    assert verification_codes.normalized(codes[0].code) == codes[0].code
    assert await rx_verification.current_code(rx) == codes[0].code


async def test_a_draft_has_no_code_and_answers_nothing(db):
    _, provider, prescriber, patient = await setup()
    draft = await rx_lifecycle.save_draft(patient.id, glasses(provider.id), audit.Actor.staff(prescriber))
    assert await rx_verification.current_code(draft) is None
    assert not await RxVerificationCode.exists(prescription_id=draft.id)


async def test_the_lookup_shows_the_rx_as_issued_without_the_date_of_birth_and_is_audited(db):
    _, provider, prescriber, patient = await setup()
    rx = await signed_rx(prescriber, provider, patient)
    code = await rx_verification.current_code(rx)

    found = await rx_verification.look_up(verification_codes.display(code).lower(), VIEWER)

    assert found is not None and found.status == rx_verification.CURRENT
    labels = [label for label, _ in found.facts]
    assert 'Patient' in labels and 'Exam date' in labels and 'Expiry date' in labels
    assert 'Date of birth' not in labels
    event = await AuditEvent.get(action='rx.verified', object_id=rx.id)
    assert event.client_address == VIEWER and event.patient_id == patient.id and event.actor_type == 'public'


async def test_status_follows_the_lifecycle_current_replaced_void_expired(db):
    _, provider, prescriber, patient = await setup()
    first = await signed_rx(prescriber, provider, patient)
    first_code = await rx_verification.current_code(first)
    second = await signed_rx(prescriber, provider, patient, issue_date=factories.today())
    second_code = await rx_verification.current_code(second)

    assert (await rx_verification.look_up(first_code, VIEWER)).status == rx_verification.REPLACED
    assert (await rx_verification.look_up(second_code, VIEWER)).status == rx_verification.CURRENT
    await rx_lifecycle.void(second.id, 'entered for the wrong patient', audit.Actor.staff(prescriber))
    assert (await rx_verification.look_up(second_code, VIEWER)).status == rx_verification.VOID

    old = await factories.make_spectacle_rx(
        patient, provider, issued=factories.today() - timedelta(days=800), purpose='computer'
    )
    await RxVerificationCode.filter(prescription_id=old.id).delete()  # signed before codes existed
    old_code = await rx_verification.current_code(old)  # drawn on first need
    assert (await rx_verification.look_up(old_code, VIEWER)).status == rx_verification.EXPIRED


async def test_stopping_sharing_issues_a_new_code_and_the_old_answers_like_an_unknown_one(db):
    _, provider, prescriber, patient = await setup()
    rx = await signed_rx(prescriber, provider, patient)
    old = await rx_verification.current_code(rx)
    account = await factories.make_staff('staff', name='x')  # any id will do for the patient actor
    new = await rx_verification.stop_sharing(patient.id, rx.id, audit.Actor.patient(account.id))

    assert new != old and await rx_verification.current_code(rx) == new
    assert await rx_verification.look_up(old, VIEWER) is None
    assert await rx_verification.look_up(verification_codes.new_code(), VIEWER) is None
    assert await rx_verification.look_up('not a code', VIEWER) is None
    assert (await rx_verification.look_up(new, VIEWER)).status == rx_verification.CURRENT
    assert await AuditEvent.filter(action='rx.verified').count() == 1  # only the answered lookup
    assert await AuditEvent.exists(action='rx.sharing_stopped', object_id=rx.id)


async def test_another_patients_rx_cannot_be_withdrawn(db):
    practice, provider, prescriber, patient = await setup()
    rx = await signed_rx(prescriber, provider, patient)
    other = await factories.make_patient(practice, first_name='Other', email='other@example.com')
    with pytest.raises(rx_verification.NotFound):
        await rx_verification.stop_sharing(other.id, rx.id, audit.SYSTEM)


async def test_lookups_are_limited_per_address(db):
    throttle.use(throttle.Throttle(throttle.MemoryCounter(clock=lambda: 1000.0)))
    for _ in range(rx_verification.LOOKUPS_PER_15_MINUTES):
        assert await rx_verification.look_up(verification_codes.new_code(), VIEWER) is None
    with pytest.raises(rx_verification.TooManyLookups, match='wait 15 minutes') as refused:
        await rx_verification.look_up(verification_codes.new_code(), VIEWER)
    assert not refused.value.unavailable
    assert await rx_verification.look_up(verification_codes.new_code(), '198.51.100.1') is None


async def test_the_last_minute_of_a_lookup_block_is_said_in_the_singular(db):
    now = [1000.0]
    throttle.use(throttle.Throttle(throttle.MemoryCounter(clock=lambda: now[0])))
    for _ in range(rx_verification.LOOKUPS_PER_15_MINUTES):
        await rx_verification.look_up(verification_codes.new_code(), VIEWER)
    now[0] += rx_verification.FIFTEEN_MINUTES - 30
    with pytest.raises(rx_verification.TooManyLookups) as refused:
        await rx_verification.look_up(verification_codes.new_code(), VIEWER)
    assert 'Please wait 1 minute and try again.' in str(refused.value)


async def test_lookups_count_in_the_release_evidence(db):
    _, provider, prescriber, patient = await setup()
    rx = await signed_rx(prescriber, provider, patient)
    await rx_verification.look_up(await rx_verification.current_code(rx), VIEWER)
    (row,) = await rx_release.release_evidence(patient_id=patient.id)
    assert row.count('rx.verified') == 1
    (line,) = csv.DictReader(io.StringIO(rx_release.evidence_csv([row])))
    assert line['verified_at_verify_page'] == '1'


async def test_the_patients_list_comes_with_codes_only_while_consent_is_on_file_or_the_practice_is_exempt(db):
    practice, provider, prescriber, patient = await setup()
    rx = await signed_rx(prescriber, provider, patient)

    shown = await rx_verification.patient_list(patient.id, practice)  # signed, but no consent yet
    assert (shown.allowed, shown.items, shown.codes) == (False, [], {})

    consent = await factories.give_consent(patient)
    shown = await rx_verification.patient_list(patient.id, practice)
    assert shown.allowed and [p.id for p in shown.items] == [rx.id]
    assert shown.codes == {rx.id: await rx_verification.current_code(rx)}
    assert [eye.eye for eye in shown.items[0].eyes] == ['OD', 'OS']  # each eye once, beside the code

    consent.withdrawn_at = datetime.now(UTC)
    await consent.save()
    assert not (await rx_verification.patient_list(patient.id, practice)).allowed  # a withdrawal counts at once
    practice.eyewear_sales_exemption = True
    await practice.save()
    assert [p.id for p in (await rx_verification.patient_list(patient.id, practice)).items] == [rx.id]


async def test_the_patients_list_shows_the_newest_code_and_draws_one_for_an_rx_signed_before_codes(db):
    practice, provider, prescriber, patient = await setup()
    await factories.give_consent(patient)
    older = await signed_rx(prescriber, provider, patient, purpose='near')
    newer = await signed_rx(prescriber, provider, patient)
    await RxVerificationCode.filter(prescription_id=older.id).delete()  # signed before codes existed
    second = await RxVerificationCode.create(prescription_id=newer.id, code=verification_codes.new_code())

    shown = await rx_verification.patient_list(patient.id, practice)
    assert shown.codes[newer.id] == second.code  # two page loads once drew one each: the newest is shown
    assert shown.codes[older.id] == await rx_verification.current_code(older)  # drawn now, and kept
    assert [len(p.eyes) for p in shown.items] == [2, 2]
