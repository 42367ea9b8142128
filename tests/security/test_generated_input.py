"""Generated bad input (hypothesis): every service that stores what a person typed either stores it exactly, as
its rule normalizes it, or refuses it with a sentence, and never writes half a record. The same on SQLite and
PostgreSQL: PostgreSQL refuses NUL bytes and SQLite takes anything, so the services decide, not the database.

Inputs: any unicode (control characters, NUL, RTL marks, emoji, combining marks), plus 100 KB strings.
"""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from models.appointment import AppointmentRequest
from models.audit import AuditEvent
from models.billing import Invoice, InvoiceLine
from models.patient import Patient
from services import appointment_requests, audit, invoices, patients, team
from services.errors import DomainError
from services.locations import LocationInput, add_location
from services.practice_setup import PracticeDetails, save_practice
from services.providers import ProviderInput, add_provider
from tests import factories
from tests.security.generated import GENERATED, HUGE, TYPED
from tests.security.generated import counts as _counts
from tests.security.generated import one_line as _one_line


@GENERATED
@given(first_name=TYPED, address=TYPED)
@example(first_name=HUGE, address='1 Main St')
@example(first_name='Ann', address=HUGE)
@example(first_name='Zoë\x00', address='')  # PostgreSQL refuses NUL in text
@example(first_name='\u200fמרים\u200f', address='12 Rue <b>Main</b>')  # stored as typed
async def test_a_patient_is_stored_exactly_or_refused_with_a_sentence(db, first_name: str, address: str):
    await factories.make_ready_practice() if not await Patient.exists() else None
    before = await _counts(Patient, AuditEvent)
    data = patients.PatientInput(first_name=first_name, last_name='Lee', date_of_birth='02/14/1988', address=address)
    try:
        created = await patients.create_patient(data, audit.SYSTEM)
    except DomainError as refused:
        assert str(refused).strip()
        assert await _counts(Patient, AuditEvent) == before
        return
    stored = await Patient.get(id=created.id)
    assert stored.first_name == _one_line(first_name) and stored.address == _one_line(address)
    assert await _counts(Patient, AuditEvent) == (before[0] + 1, before[1] + 1)


@GENERATED
@given(reason=TYPED, note=TYPED)
@example(reason=HUGE, note='')
@example(reason='Eye exam', note='mornings\x00')
async def test_an_appointment_request_is_stored_exactly_or_refused(db, reason: str, note: str):
    patient = await Patient.first() or await factories.make_active_patient()
    await AppointmentRequest.filter(patient_id=patient.id).delete()
    before = await _counts(AppointmentRequest, AuditEvent)
    preferences = appointment_requests.Preferences((), (), note)
    try:
        request = await appointment_requests.request_appointment(patient.id, reason, preferences, audit.SYSTEM)
    except DomainError as refused:
        assert str(refused).strip()
        assert await _counts(AppointmentRequest, AuditEvent) == before
        return
    stored = await AppointmentRequest.get(id=request.id)
    assert stored.reason == _one_line(reason)
    assert _one_line(note) in stored.preferred_times


@GENERATED
@given(description=TYPED, reason=TYPED)
@example(description=HUGE, reason='')
@example(description='Frames\x00', reason='')
@example(description='Frames', reason='loyal\x1b[31m')
async def test_an_invoice_is_stored_exactly_or_refused_and_never_half_written(db, description: str, reason: str):
    patient = await Patient.first() or await factories.make_active_patient()
    before = await _counts(Invoice, InvoiceLine, AuditEvent)
    draft = invoices.InvoiceDraft(
        issued_on=factories.today(),
        lines=[invoices.LineDraft(description, 12_000)],
        adjustments=[invoices.AdjustmentDraft('discount', 1_000, reason)],
    )
    try:
        invoice = await invoices.write_invoice(patient.id, draft, audit.SYSTEM)
    except DomainError as refused:
        assert str(refused).strip()
        assert await _counts(Invoice, InvoiceLine, AuditEvent) == before
        return
    line = await InvoiceLine.get(invoice_id=invoice.id)
    assert line.description == _one_line(description)


@GENERATED
@given(reply=st.one_of(TYPED, st.text(alphabet=st.sampled_from('ab \n\r\t\x00\x1b'), max_size=40)))
@example(reply='Thank you.\nWe will call you on Monday.\r\n\r\nLakeside')
async def test_a_declined_request_keeps_its_reply_s_lines_or_refuses_it(db, reply: str):
    patient = await Patient.first() or await factories.make_active_patient()
    await AppointmentRequest.filter(patient_id=patient.id).delete()
    request = await appointment_requests.request_appointment(
        patient.id, 'Eye exam', appointment_requests.Preferences((), (), ''), audit.SYSTEM
    )
    try:
        await appointment_requests.decline(request.id, reply, audit.SYSTEM)
    except DomainError as refused:
        assert str(refused).strip()
        assert (await AppointmentRequest.get(id=request.id)).status == 'pending'
        return
    stored = await AppointmentRequest.get(id=request.id)
    expected = '\n'.join(_one_line(line) for line in reply.replace('\r\n', '\n').replace('\r', '\n').split('\n'))
    assert stored.reply == expected.strip('\n')


async def _practice_named(name: str) -> object:
    return await save_practice(
        PracticeDetails(name=name, phone='(802) 555-0100', time_zone='America/New_York'), audit.SYSTEM
    )


async def _location_named(name: str) -> object:
    await factories.make_ready_practice() if not await Patient.exists() else None
    return await add_location(LocationInput(name, '1 Main St'), audit.SYSTEM)


async def _provider_named(name: str) -> object:
    await factories.make_ready_practice() if not await Patient.exists() else None
    return await add_provider(ProviderInput(name, 'OD', 'VT-123', 'VT', '1234567893'), audit.SYSTEM)


async def _member_named(name: str) -> object:
    return await team.add_member(name, 'new.member@example.com', 'staff', audit.SYSTEM)


@pytest.mark.parametrize('write', [_practice_named, _location_named, _provider_named, _member_named])
@pytest.mark.parametrize('typed', ['Lake\x00side', 'Lake\x1b[31mside', 'Lake\x7fside'])
async def test_setup_and_team_names_with_control_characters_are_refused_with_a_sentence(db, smtp_server, write, typed):
    before = await _counts(AuditEvent)
    with pytest.raises(DomainError, match='cannot be saved'):
        await write(typed)
    assert await _counts(AuditEvent) == before
