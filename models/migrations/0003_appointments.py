from tortoise import migrations
from tortoise.migrations import operations as ops
from models.appointment import AppointmentStatus, RequestStatus, VisitType
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint


class Migration(migrations.Migration):
    dependencies = [('models', '0002_practice_settings')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Appointment',
            name='status',
            field=fields.CharEnumField(
                default=AppointmentStatus.BOOKED,
                description='BOOKED: booked\nCANCELLED: cancelled\nCOMPLETED: completed\nNO_SHOW: no_show',
                enum_type=AppointmentStatus,
                max_length=20,
            ),
        ),
        ops.AddField(
            model_name='Appointment',
            name='cancel_reason',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ops.AddField(
            model_name='Appointment',
            name='reminder_for',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Appointment',
            name='reminder_message',
            field=fields.ForeignKeyField(
                'models.OutboxMessage',
                source_field='reminder_message_id',
                null=True,
                db_constraint=True,
                to_field='id',
                related_name=False,
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name='Appointment',
            name='visit_type',
            field=fields.CharEnumField(
                default=VisitType.EYE_EXAM,
                description='EYE_EXAM: eye_exam\nCONTACT_LENS_FITTING: contact_lens_fitting\nGLASSES_PROBLEM: glasses_problem\nFOLLOW_UP: follow_up\nOTHER: other',
                db_default='eye_exam',
                enum_type=VisitType,
                max_length=30,
            ),
        ),
        ops.AddIndex(
            model_name='Appointment',
            index=Index(fields=['provider_id', 'starts_at']),
        ),
        ops.AddIndex(
            model_name='Appointment',
            index=Index(fields=['location_id', 'starts_at']),
        ),
        ops.AlterField(
            model_name='AppointmentRequest',
            name='status',
            field=fields.CharEnumField(
                default=RequestStatus.PENDING,
                description='PENDING: pending\nSCHEDULED: scheduled\nDECLINED: declined\nWITHDRAWN: withdrawn',
                enum_type=RequestStatus,
                max_length=20,
            ),
        ),
        ops.AddField(
            model_name='AppointmentRequest',
            name='location',
            field=fields.ForeignKeyField(
                'models.Location',
                source_field='location_id',
                null=True,
                db_constraint=True,
                to_field='id',
                related_name=False,
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name='AppointmentRequest',
            name='pending_slot',
            field=fields.SmallIntField(null=True),
        ),
        ops.AddField(
            model_name='AppointmentRequest',
            name='reply',
            field=fields.CharField(default='', db_default='', max_length=1000),
        ),
        ops.AddField(
            model_name='AppointmentRequest',
            name='visit_type',
            field=fields.CharEnumField(
                default=VisitType.OTHER,
                description='EYE_EXAM: eye_exam\nCONTACT_LENS_FITTING: contact_lens_fitting\nGLASSES_PROBLEM: glasses_problem\nFOLLOW_UP: follow_up\nOTHER: other',
                db_default='other',
                enum_type=VisitType,
                max_length=30,
            ),
        ),
        ops.AddIndex(
            model_name='AppointmentRequest',
            index=Index(fields=['status', 'created_at']),
        ),
        # Existing rows keep their meaning: 'scheduled' visits are booked, and each patient's pending
        # requests take slots 1..3 in the order they were sent (a fourth, if any, stays unslotted).
        ops.RunSQL(
            [
                # SQLite's AlterField rebuilds the table and drops its older index: put it back.
                'CREATE INDEX IF NOT EXISTS "idx_appointment_patient_7fa8fb" ON "appointment" ("patient_id", "starts_at")',
                "UPDATE appointment SET status = 'booked' WHERE status = 'scheduled'",
                "UPDATE appointment SET status = 'cancelled' WHERE status = 'canceled'",
                "UPDATE appointment SET status = 'no_show' WHERE status = 'no-show'",
                'UPDATE appointmentrequest SET pending_slot = (SELECT COUNT(*) FROM appointmentrequest AS earlier'
                " WHERE earlier.patient_id = appointmentrequest.patient_id AND earlier.status = 'pending'"
                " AND earlier.id <= appointmentrequest.id) WHERE status = 'pending'",
                'UPDATE appointmentrequest SET pending_slot = NULL WHERE pending_slot > 3',
            ],
            reverse_sql=["UPDATE appointment SET status = 'scheduled' WHERE status = 'booked'"],
        ),
        ops.AddConstraint(
            model_name='AppointmentRequest',
            constraint=UniqueConstraint(fields=('patient', 'pending_slot'), name=None),
        ),
    ]
