from tortoise import migrations
from tortoise.migrations import operations as ops
from models.verification import RequestChannel, RequestStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0007_prescription_lifecycle')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RxVerificationCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    'prescription',
                    fields.ForeignKeyField(
                        'models.Prescription',
                        source_field='prescription_id',
                        db_constraint=True,
                        to_field='id',
                        related_name='verification_codes',
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ('code', fields.CharField(unique=True, max_length=24)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rxverificationcode', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VerificationRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    'practice',
                    fields.ForeignKeyField(
                        'models.Practice',
                        source_field='practice_id',
                        db_constraint=True,
                        to_field='id',
                        related_name='verification_requests',
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    'patient',
                    fields.ForeignKeyField(
                        'models.Patient',
                        source_field='patient_id',
                        null=True,
                        db_constraint=True,
                        to_field='id',
                        related_name='verification_requests',
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ('patient_name', fields.CharField(max_length=200)),
                ('patient_dob', fields.DateField(null=True)),
                ('seller_name', fields.CharField(max_length=200)),
                ('seller_email', fields.CharField(max_length=320)),
                ('seller_phone', fields.CharField(default='', max_length=40)),
                ('seller_fax', fields.CharField(default='', max_length=40)),
                (
                    'channel',
                    fields.CharEnumField(
                        description='PHONE: phone\nFAX: fax\nEMAIL: email', enum_type=RequestChannel, max_length=5
                    ),
                ),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('count_saturday', fields.BooleanField(default=False)),
                ('due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('stated', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                (
                    'status',
                    fields.CharEnumField(
                        default=RequestStatus.OPEN,
                        description='OPEN: open\nVERIFIED: verified\nINACCURATE: inaccurate\nINVALID: invalid',
                        enum_type=RequestStatus,
                        max_length=10,
                    ),
                ),
                ('invalid_reason', fields.CharField(default='', max_length=20)),
                (
                    'prescription',
                    fields.ForeignKeyField(
                        'models.Prescription',
                        source_field='prescription_id',
                        null=True,
                        db_constraint=True,
                        to_field='id',
                        related_name='verification_requests',
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    'answered_by',
                    fields.ForeignKeyField(
                        'models.StaffUser',
                        source_field='answered_by_id',
                        null=True,
                        db_constraint=True,
                        to_field='id',
                        related_name='answered_verifications',
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    'created_by',
                    fields.ForeignKeyField(
                        'models.StaffUser',
                        source_field='created_by_id',
                        null=True,
                        db_constraint=True,
                        to_field='id',
                        related_name='logged_verifications',
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                'table': 'verificationrequest',
                'app': 'models',
                'indexes': [Index(fields=['practice_id', 'status'])],
                'pk_attr': 'id',
                'table_description': "A seller's contact-lens verification request (16 CFR 315.5), logged by staff as it arrives.",
            },
            bases=['Model'],
        ),
    ]
