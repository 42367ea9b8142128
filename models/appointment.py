from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class VisitType(StrEnum):
    EYE_EXAM = 'eye_exam'
    CONTACT_LENS_FITTING = 'contact_lens_fitting'
    GLASSES_PROBLEM = 'glasses_problem'
    FOLLOW_UP = 'follow_up'
    OTHER = 'other'

    @property
    def label(self) -> str:
        return VISIT_TYPE_LABELS[self]


VISIT_TYPE_LABELS = {
    VisitType.EYE_EXAM: 'Eye exam',
    VisitType.CONTACT_LENS_FITTING: 'Contact-lens fitting',
    VisitType.GLASSES_PROBLEM: 'Glasses or lens problem',
    VisitType.FOLLOW_UP: 'Follow-up',
    VisitType.OTHER: 'Other',
}


class AppointmentStatus(StrEnum):
    BOOKED = 'booked'
    CANCELLED = 'cancelled'
    COMPLETED = 'completed'
    NO_SHOW = 'no_show'


class RequestStatus(StrEnum):
    PENDING = 'pending'
    SCHEDULED = 'scheduled'
    DECLINED = 'declined'
    WITHDRAWN = 'withdrawn'


# New NOT NULL columns carry a database default too, so a migration fills the rows that already exist.
class Appointment(Model):
    id = fields.IntField(primary_key=True)
    patient = fields.ForeignKeyField('models.Patient', related_name='appointments')
    provider = fields.ForeignKeyField(
        'models.Provider', related_name='appointments', null=True, on_delete=fields.SET_NULL
    )
    location = fields.ForeignKeyField(
        'models.Location', related_name='appointments', null=True, on_delete=fields.SET_NULL
    )
    starts_at = fields.DatetimeField()
    duration_minutes = fields.IntField(default=30)
    reason = fields.CharField(max_length=200, default='')
    visit_type = fields.CharEnumField(
        VisitType, max_length=30, default=VisitType.EYE_EXAM, db_default=VisitType.EYE_EXAM.value
    )
    status = fields.CharEnumField(AppointmentStatus, max_length=20, default=AppointmentStatus.BOOKED)
    cancel_reason = fields.CharField(max_length=300, default='', db_default='')
    # Reminder bookkeeping: the start time a reminder was queued for (claimed by one atomic update, so
    # two instances never queue two), and that outbox row, withdrawn if the visit moves or is cancelled.
    reminder_for = fields.DatetimeField(null=True)
    reminder_message = fields.ForeignKeyField(
        'models.OutboxMessage', related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        indexes = (('patient_id', 'starts_at'), ('provider_id', 'starts_at'), ('location_id', 'starts_at'))


# A visit asked for by a patient: staff turn it into an appointment or decline it.
class AppointmentRequest(Model):
    id = fields.IntField(primary_key=True)
    patient = fields.ForeignKeyField('models.Patient', related_name='appointment_requests')
    reason = fields.CharField(max_length=300)
    preferred_times = fields.CharField(max_length=300, default='')
    visit_type = fields.CharEnumField(
        VisitType, max_length=30, default=VisitType.OTHER, db_default=VisitType.OTHER.value
    )
    location = fields.ForeignKeyField('models.Location', related_name=False, null=True, on_delete=fields.SET_NULL)
    status = fields.CharEnumField(RequestStatus, max_length=20, default=RequestStatus.PENDING)
    # 1..3 while pending, NULL once handled: the unique (patient, pending_slot) pair is how the database,
    # not a count-then-insert, holds the limit of three pending requests under simultaneous submissions.
    pending_slot = fields.SmallIntField(null=True)
    reply = fields.CharField(max_length=1000, default='', db_default='')
    created_at = fields.DatetimeField(auto_now_add=True)
    handled_at = fields.DatetimeField(null=True)
    handled_by = fields.ForeignKeyField('models.StaffUser', related_name=False, null=True, on_delete=fields.SET_NULL)
    appointment = fields.ForeignKeyField('models.Appointment', related_name=False, null=True, on_delete=fields.SET_NULL)

    class Meta:
        unique_together = (('patient', 'pending_slot'),)
        indexes = (('status', 'created_at'),)
