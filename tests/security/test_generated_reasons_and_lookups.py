"""Generated bad input, second part: the patient form's contact fields, the reasons staff type when they
cancel or void something, payment references, appointment notes, and every box whose words are looked up
rather than stored (patient search, the login form, the sign-in code, /verify). A write keeps the words
exactly or refuses them with a sentence and writes nothing; a look-up with anything typed finds nothing or
says why, never a server error (PostgreSQL refuses a NUL byte in a query, and Tortoise a value longer than
its column, so the services answer before asking)."""

from dataclasses import replace
from datetime import time, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from models.appointment import Appointment, AppointmentStatus, VisitType
from models.audit import AuditEvent
from models.billing import Invoice, Payment
from models.consent import ReleaseConfirmation
from models.patient import Patient
from models.practice import Location, Practice, Provider
from models.prescription import Prescription, RxStatus
from models.staff import StaffUser
from services import (
    appointments,
    audit,
    email_upkeep,
    invoices,
    magic_link,
    patients,
    payments,
    practice_setup,
    rx_lifecycle,
    rx_release,
    rx_verification,
)
from services.errors import DomainError
from services.typed_text import unstorable
from tests import factories
from tests.security.generated import FEW, GENERATED, HUGE, TYPED, UNSTORABLE, counts, one_line


async def _patient() -> Patient:
    """The one patient of a ready practice (a provider and a location too), made on the first example."""
    if not await Patient.exists():
        await factories.make_ready_practice()
        return await factories.make_active_patient()
    return await Patient.first()


def _refusal(error: DomainError) -> None:
    """A refusal a person can read: a sentence, not a page of what they pasted back at them."""
    assert str(error).strip() and len(str(error)) < 1_000


@GENERATED
@given(email=TYPED, phone=TYPED, born=TYPED)
@example(email=HUGE, phone='', born='02/14/1988')
@example(email='ann@example.org\x00', phone='', born='02/14/1988')
@example(email='', phone='207-555-0134\x00', born='02/14/1988')
@example(email='', phone=HUGE, born='02/14/1988')
@example(email='', phone='', born='02/14/1988\x00')
@example(email='', phone='', born=HUGE)
async def test_a_patient_s_contact_fields_are_stored_exactly_or_refused(db, email: str, phone: str, born: str):
    await factories.make_ready_practice() if not await Patient.exists() else None
    before = await counts(Patient, AuditEvent)
    data = patients.PatientInput(first_name='Ann', last_name='Lee', date_of_birth=born, email=email, phone=phone)
    try:
        created = await patients.create_patient(data, audit.SYSTEM)
    except DomainError as refused:
        _refusal(refused)
        assert await counts(Patient, AuditEvent) == before
        return
    stored = await Patient.get(id=created.id)
    assert stored.email == email.strip()
    assert stored.date_of_birth == patients.parse_date(born)


@FEW
@given(reason=TYPED)
@example(reason=HUGE)
@example(reason='patient asked\x00')
@example(reason='<img src=x onerror=alert(1)>')
async def test_a_cancellation_reason_is_kept_exactly_or_refused(db, reason: str):
    patient = await _patient()
    appointment = await factories.make_appointment(patient, in_days=3)
    try:
        await appointments.cancel(appointment.id, reason, audit.SYSTEM)
    except DomainError as refused:
        _refusal(refused)
        assert (await Appointment.get(id=appointment.id)).status == AppointmentStatus.BOOKED
        return
    stored = await Appointment.get(id=appointment.id)
    assert stored.status == AppointmentStatus.CANCELLED and stored.cancel_reason == one_line(reason)


@FEW
@given(note=TYPED)
@example(note=HUGE)
@example(note='bring glasses\x1b')
async def test_an_appointment_note_is_kept_exactly_or_refused(db, note: str):
    patient = await _patient()
    provider, location = await Provider.first(), await Location.first()
    day = factories.today() + timedelta(days=30)
    slot = appointments.Slot(provider.id, location.id, day, time(9), 30, VisitType.EYE_EXAM, note)
    before = await counts(Appointment, AuditEvent)
    try:
        booked = await appointments.book(patient.id, slot, audit.SYSTEM, confirm_overlap=True, notify=False)
    except DomainError as refused:
        _refusal(refused)
        assert await counts(Appointment, AuditEvent) == before
        return
    assert (await Appointment.get(id=booked.id)).reason == one_line(note)


@FEW
@given(reason=TYPED)
@example(reason=HUGE)
@example(reason='wrong patient\x00')
@example(reason='wrong patient\ud800')
async def test_a_prescription_s_void_reason_is_kept_exactly_or_refused(db, reason: str):
    patient = await _patient()
    rx = await factories.make_spectacle_rx(patient)
    before = await counts(AuditEvent)
    try:
        await rx_lifecycle.void(rx.id, reason, audit.SYSTEM)
    except DomainError as refused:
        _refusal(refused)
        assert (await Prescription.get(id=rx.id)).status == RxStatus.FINAL
        assert await counts(AuditEvent) == before
        return
    stored = await Prescription.get(id=rx.id)
    assert stored.status == RxStatus.VOID and stored.void_reason == one_line(reason)


@FEW
@given(reason=TYPED)
@example(reason=HUGE)
@example(reason='duplicate\x00')
async def test_an_invoice_s_void_reason_is_kept_exactly_or_refused(db, reason: str):
    patient = await _patient()
    invoice = await factories.make_invoice(patient, [('Exam', 12_000)])
    try:
        await invoices.void_invoice(invoice.id, reason, audit.SYSTEM)
    except DomainError as refused:
        _refusal(refused)
        assert (await Invoice.get(id=invoice.id)).voided_at is None
        return
    stored = await Invoice.get(id=invoice.id)
    assert stored.voided_at is not None and stored.void_reason == one_line(reason)


@FEW
@given(reference=TYPED)
@example(reference=HUGE)
@example(reference='check 1042\x00')
async def test_a_payment_reference_is_kept_exactly_or_refused(db, reference: str):
    patient = await _patient()
    invoice = await Invoice.first() or await factories.make_invoice(patient, [('Exam', 1_000_000)])
    before = await counts(Payment, AuditEvent)
    entry = payments.PaymentInput(100, factories.today(), 'check', reference)
    try:
        await payments.record_payment(invoice.id, entry, audit.SYSTEM)
    except DomainError as refused:
        _refusal(refused)
        assert await counts(Payment, AuditEvent) == before
        return
    assert (await Payment.all().order_by('-id').first()).reference == one_line(reference)


@FEW
@given(note=TYPED)
@example(note=HUGE)
@example(note='refused to sign\x00')
async def test_a_paper_release_note_is_kept_exactly_or_refused(db, note: str):
    patient = await _patient()
    rx = await Prescription.first() or await factories.make_spectacle_rx(patient)
    staff = await StaffUser.first()
    before = await counts(ReleaseConfirmation, AuditEvent)
    try:
        made = await rx_release.record_confirmation(rx.id, 'refused', audit.SYSTEM, staff=staff, note=note)
    except DomainError as refused:
        _refusal(refused)
        assert await counts(ReleaseConfirmation, AuditEvent) == before
        return
    assert (await ReleaseConfirmation.get(id=made.id)).note == one_line(note)


@FEW
@given(tail=TYPED)
@example(tail='\x00')
@example(tail=HUGE)
async def test_the_practice_payment_link_is_kept_exactly_or_refused(db, tail: str):
    await _patient()
    settings = practice_setup.settings_of(await Practice.first())
    typed = 'https://pay.example.com/' + tail
    try:
        await practice_setup.save_settings(replace(settings, payment_url=typed), audit.SYSTEM)
    except DomainError as refused:
        _refusal(refused)
        return
    assert (await Practice.first()).payment_url == typed.strip()


@FEW
@given(email=TYPED)
@example(email='new\x00@example.org')
@example(email=HUGE)
@example(email='  JAMIE.NEW@Example.org ')
async def test_changing_a_portal_patient_s_email_is_refused_with_a_sentence_never_half_done(db, email: str):
    patient = await _patient()  # the portal is active: rule 5 keeps the login email while it is
    before = (await Patient.get(id=patient.id)).email
    data = patients.PatientInput(
        first_name=patient.first_name, last_name=patient.last_name, date_of_birth='1985-04-12', email=email
    )
    try:
        await patients.update_patient(patient.id, data, audit.SYSTEM)
    except DomainError as refused:
        _refusal(refused)
        assert (await Patient.get(id=patient.id)).email == before
        return
    assert (await Patient.get(id=patient.id)).email == before == email.strip()  # only the same address passes


@FEW
@given(emails=st.lists(st.one_of(TYPED, st.emails()).map(lambda text: text.strip()[:320]), min_size=1, max_size=4))
async def test_email_upkeep_lists_whatever_addresses_were_stored_as_they_are(db, emails: list[str]):
    """An import keeps an address it cannot validate (marked invalid): the upkeep page shows it as it is."""
    await _patient()
    await Patient.filter(first_name='Upkeep').delete()
    stored = [address for address in emails if not unstorable(address)]
    for address in stored:
        await factories.make_patient(first_name='Upkeep', email=address)
    report = await email_upkeep.email_upkeep()
    listed = {row.email for row in report.rows}
    for patient in await Patient.filter(first_name='Upkeep'):
        if not patient.email_valid or not patient.email:
            assert patient.email in listed


LOOKED_UP = st.one_of(TYPED, st.sampled_from([*UNSTORABLE, HUGE, 'jamie@example.org\x00', '1988-02-14\x00']))


@GENERATED
@given(query=LOOKED_UP)
@example(query=HUGE)
@example(query='Riv\x00era')
@example(query='rivera@example.org\x00')
async def test_the_patient_search_finds_nothing_for_unstorable_words_and_never_fails(db, query: str):
    await factories.make_patient(first_name='Jamie', last_name='Rivera') if not await Patient.exists() else None
    found = await patients.search_patients(query)
    assert all(isinstance(row.id, int) for row in found)


@GENERATED
@given(email=LOOKED_UP, code=LOOKED_UP)
@example(email='jamie@example.org\x00', code='123456')
@example(email=HUGE, code=HUGE)
async def test_the_patient_login_forms_answer_anything_typed_without_a_server_error(db, email: str, code: str):
    try:
        await magic_link.request_login_link(email, '203.0.113.9')
    except magic_link.TooManyRequests as throttled:
        _refusal(throttled)
    with pytest.raises(magic_link.CodeRejected):
        await magic_link.sign_in_with_code(email, code, '203.0.113.9')


@FEW
@given(action=LOOKED_UP)
@example(action='rx.voided\x00')
async def test_the_audit_viewer_s_filter_answers_anything_sent_without_a_server_error(db, action: str):
    assert await audit.trail(audit.TrailFilter(action=action, actor=action)) == []


@FEW
@given(typed=LOOKED_UP)
@example(typed='ACDE-FGHJ\x00')
@example(typed=HUGE)
async def test_the_verify_box_answers_anything_typed_without_a_server_error(db, typed: str):
    try:
        assert await rx_verification.look_up(typed, '203.0.113.9') is None
    except rx_verification.TooManyLookups as throttled:
        _refusal(throttled)
