"""The verification desk: deadlines in the prescriber's zone, matching stated values, answers by email, and
silence past the deadline shown as passive verification."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.audit import AuditEvent
from models.verification import RequestStatus
from services import audit
from services import verification_requests as desk
from tests import factories
from tests.mail import SmtpServer, body

NEW_YORK = ZoneInfo('America/New_York')


async def _setup(**practice_fields):
    practice = await factories.make_practice(time_zone='America/New_York', **practice_fields)
    provider = await factories.make_provider(practice, npi='1234567893')
    staff = await factories.make_staff('staff')
    patient = await factories.make_patient(practice, first_name='Jamie', last_name='Rivera')
    return practice, provider, staff, patient


def _form(patient_id=None, received=None, **fields) -> desk.RequestInput:
    values = dict(
        seller_name='LensMart Online',
        seller_email='verify@lensmart.example',
        channel='fax',
        received_at=received or datetime.now(UTC) - timedelta(minutes=5),
        patient_name='Jamie Rivera',
        patient_id=patient_id,
        brand='AcmeDaily 1-Day',
        eyes={
            'OD': {'sphere': '-2.5', 'base_curve': '8.6', 'diameter': '14.2'},
            'OS': {'sphere': '-2.00', 'base_curve': '8.60', 'diameter': '14.20'},
        },
    )
    values.update(fields)
    return desk.RequestInput(**values)


async def test_the_deadline_is_eight_business_hours_in_the_practices_zone(db):
    practice, _, staff, patient = await _setup()
    wednesday = datetime(2025, 11, 26, 15, tzinfo=NEW_YORK)  # the day before Thanksgiving, 3 p.m.
    request = await desk.log_request(practice, _form(patient.id, received=wednesday), audit.Actor.staff(staff), staff)
    assert request.due_at == datetime(2025, 11, 28, 15, tzinfo=NEW_YORK)
    saturday_seller = await desk.log_request(
        practice,
        _form(patient.id, received=datetime(2025, 12, 5, 15, tzinfo=NEW_YORK), count_saturday=True),
        audit.Actor.staff(staff),
        staff,
    )
    assert saturday_seller.due_at == datetime(2025, 12, 6, 15, tzinfo=NEW_YORK)
    assert await AuditEvent.filter(action='verification.logged').count() == 2


async def test_stated_values_are_compared_with_the_current_contact_lens_rx(db):
    practice, provider, staff, patient = await _setup()
    rx = await factories.make_contact_lens_rx(patient, provider)  # OD -2.50, OS -2.25, 8.60 / 14.20
    request = await desk.log_request(practice, _form(patient.id), audit.Actor.staff(staff), staff)
    current = await desk.current_contact_lens_rx(patient.id)
    assert current.id == rx.id
    results = {(c.eye, c.label): c.matches for c in desk.compare(request, current)}
    assert results[('', 'Brand')]
    assert results[('OD', 'Power')] and results[('OD', 'Base curve')] and results[('OD', 'Diameter')]
    assert not results[('OS', 'Power')]  # stated -2.00, on record -2.25
    assert results[('OD', 'Cylinder')]  # none stated, none on record


async def test_inaccurate_sends_the_correct_prescription_to_the_seller(db, smtp_server: SmtpServer):
    practice, provider, staff, patient = await _setup(fax='(555) 010-2001')
    await factories.make_contact_lens_rx(patient, provider)
    request = await desk.log_request(practice, _form(patient.id), audit.Actor.staff(staff), staff)

    answered = await desk.answer(request.id, 'inaccurate', audit.Actor.staff(staff), staff)

    assert answered.status == RequestStatus.INACCURATE and answered.prescription_id is not None
    email = await smtp_server.wait_for('verify@lensmart.example')
    text = body(email)
    assert email['Subject'] == 'Prescription verification: Inaccurate for Jamie Rivera'
    assert 'OS: Power -2.25, Base curve 8.60, Diameter 14.20' in text
    assert 'NPI: 1234567893' in text and 'Fax: (555) 010-2001' in text
    event = await AuditEvent.get(action='verification.answered', object_id=request.id)
    assert event.detail['outcome'] == 'inaccurate' and event.detail['late'] is False
    with pytest.raises(desk.AlreadyAnswered):
        await desk.answer(request.id, 'verified', audit.Actor.staff(staff), staff)


async def test_invalid_needs_a_reason_and_says_it(db, smtp_server: SmtpServer):
    practice, _, staff, _ = await _setup()
    request = await desk.log_request(practice, _form(None, patient_name='Pat Unknown'), audit.Actor.staff(staff), staff)
    with pytest.raises(desk.InvalidRequest, match='no current contact lens prescription'):
        await desk.answer(request.id, 'verified', audit.Actor.staff(staff), staff)
    with pytest.raises(desk.InvalidRequest, match='Choose why'):
        await desk.answer(request.id, 'invalid', audit.Actor.staff(staff), staff)

    await desk.answer(request.id, 'invalid', audit.Actor.staff(staff), staff, reason='not_our_patient')

    text = body(await smtp_server.wait_for('verify@lensmart.example'))
    assert 'This person is not a patient of our practice. Please do not fill this prescription.' in text


async def test_silence_past_the_deadline_is_passive_verification_and_leaves_the_count(db):
    practice, _, staff, patient = await _setup()
    long_ago = datetime.now(UTC) - timedelta(days=10)
    await desk.log_request(practice, _form(patient.id, received=long_ago), audit.Actor.staff(staff), staff)
    fresh = await desk.log_request(practice, _form(patient.id), audit.Actor.staff(staff), staff)

    rows = await desk.desk(practice)

    assert [r.request.id for r in rows][0] == fresh.id  # still answerable: first
    assert rows[1].passive and rows[1].state == 'Passively verified' and rows[1].hours_left == 0
    assert not rows[0].passive and rows[0].hours_left > 0
    assert await desk.open_count() == 1


async def test_a_request_needs_a_seller_email_and_a_past_receipt_time(db):
    practice, _, staff, patient = await _setup()
    with pytest.raises(desk.InvalidRequest, match='email address'):
        await desk.log_request(practice, _form(patient.id, seller_email='nope'), audit.Actor.staff(staff), staff)
    with pytest.raises(desk.InvalidRequest, match='future'):
        await desk.log_request(
            practice,
            _form(patient.id, received=datetime.now(UTC) + timedelta(hours=2)),
            audit.Actor.staff(staff),
            staff,
        )


async def test_an_expired_rx_on_file_cannot_be_verified_only_answered_invalid(db, smtp_server: SmtpServer):
    practice, provider, staff, patient = await _setup()
    rx = await factories.make_contact_lens_rx(patient, provider)
    await type(rx).filter(id=rx.id).update(expiry_date=datetime.now(UTC).date() - timedelta(days=30))
    request = await desk.log_request(practice, _form(patient.id), audit.Actor.staff(staff), staff)
    with pytest.raises(desk.InvalidRequest, match=r'expired on .*answer Invalid \(expired\)'):
        await desk.answer(request.id, 'verified', audit.Actor.staff(staff), staff)
    await desk.answer(request.id, 'invalid', audit.Actor.staff(staff), staff, reason='expired')
    assert 'The prescription has expired.' in body(await smtp_server.wait_for('verify@lensmart.example'))
