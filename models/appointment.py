from tortoise import fields
from tortoise.models import Model


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
    status = fields.CharField(max_length=20, default='scheduled')

    class Meta:
        indexes = (('patient_id', 'starts_at'),)


# A visit asked for by a patient: staff turn it into an appointment or decline it.
class AppointmentRequest(Model):
    id = fields.IntField(primary_key=True)
    patient = fields.ForeignKeyField('models.Patient', related_name='appointment_requests')
    reason = fields.CharField(max_length=300)
    preferred_times = fields.CharField(max_length=300, default='')
    status = fields.CharField(max_length=20, default='pending')
    created_at = fields.DatetimeField(auto_now_add=True)
    handled_at = fields.DatetimeField(null=True)
    handled_by = fields.ForeignKeyField('models.StaffUser', related_name=False, null=True, on_delete=fields.SET_NULL)
    appointment = fields.ForeignKeyField('models.Appointment', related_name=False, null=True, on_delete=fields.SET_NULL)
