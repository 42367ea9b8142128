"""A record and its audit row are written together: if the audit row cannot be written, neither is kept."""

import pytest

from models.appointment import AppointmentRequest
from models.outbox import OutboxMessage
from models.patient import Patient
from services import appointment_requests, audit, notifications, patients
from tests import factories

STAFF = audit.Actor('staff', 1, 'Riley Front Desk', '127.0.0.1')


class AuditDown(Exception):
    pass


async def test_a_new_patient_is_not_kept_without_its_audit_row(db, monkeypatch):
    await factories.make_ready_practice()
    monkeypatch.setattr(audit, 'record', _failing)
    with pytest.raises(AuditDown):
        await patients.create_patient(patients.PatientInput('Ada', 'Lovelace', '1985-12-10'), STAFF)
    assert not await Patient.exists(last_name='Lovelace')


async def test_a_patient_edit_is_not_kept_without_its_audit_row(db, monkeypatch):
    patient = await factories.make_patient(first_name='Ada', last_name='Lovelace')
    monkeypatch.setattr(audit, 'record', _failing)
    data = patients.PatientInput('Ada', 'Byron', patient.date_of_birth.isoformat(), email=patient.email)
    with pytest.raises(AuditDown):
        await patients.update_patient(patient.id, data, STAFF)
    assert (await Patient.get(id=patient.id)).last_name == 'Lovelace'


async def test_an_appointment_request_is_not_kept_without_its_audit_row(db, monkeypatch):
    patient = await factories.make_active_patient()
    monkeypatch.setattr(audit, 'record', _failing)
    with pytest.raises(AuditDown):
        await appointment_requests.request_appointment(
            patient.id, 'Annual exam', appointment_requests.Preferences(), STAFF
        )
    assert not await AppointmentRequest.exists(patient_id=patient.id)


async def test_a_text_is_not_queued_without_its_audit_row(sms, monkeypatch):
    patient = await factories.make_active_patient(phone='(207) 555-0134')
    monkeypatch.setattr(audit, 'record', _failing)
    with pytest.raises(AuditDown):
        await notifications.send_text_invitation(patient.id, STAFF)
    assert not await OutboxMessage.exists(patient_id=patient.id, channel='sms')
    assert sms.received == []


async def test_a_copied_text_is_not_recorded_without_its_audit_row(db, monkeypatch):
    patient = await factories.make_active_patient(phone='(207) 555-0134')
    monkeypatch.setattr(audit, 'record', _failing)
    with pytest.raises(AuditDown):
        await notifications.record_copied_text_invitation(patient.id, STAFF)
    assert not await OutboxMessage.exists(patient_id=patient.id, channel='sms')


async def _failing(*args: object, **kwargs: object) -> None:
    raise AuditDown()
