from tortoise import migrations
from tortoise.migrations import operations as ops
from models.consent import ConfirmationKind, ConsentMethod
from models.prescription import RxPurpose, RxStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0006_staff_password_tokens')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DigitalDeliveryConsent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    'patient',
                    fields.ForeignKeyField(
                        'models.Patient',
                        source_field='patient_id',
                        db_constraint=True,
                        to_field='id',
                        related_name='delivery_consents',
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    'method',
                    fields.CharEnumField(
                        description='IN_OFFICE: in_office\nPHONE: phone\nPORTAL: portal',
                        enum_type=ConsentMethod,
                        max_length=9,
                    ),
                ),
                ('delivery', fields.CharField(default='patient portal', max_length=50)),
                (
                    'recorded_by',
                    fields.ForeignKeyField(
                        'models.StaffUser',
                        source_field='recorded_by_id',
                        null=True,
                        db_constraint=True,
                        to_field='id',
                        related_name='recorded_consents',
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ('recorded_by_label', fields.CharField(default='', max_length=200)),
                ('given_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'digitaldeliveryconsent', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReleaseConfirmation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    'prescription',
                    fields.ForeignKeyField(
                        'models.Prescription',
                        source_field='prescription_id',
                        db_constraint=True,
                        to_field='id',
                        related_name='release_confirmations',
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    'patient',
                    fields.ForeignKeyField(
                        'models.Patient',
                        source_field='patient_id',
                        db_constraint=True,
                        to_field='id',
                        related_name='release_confirmations',
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    'kind',
                    fields.CharEnumField(
                        description='SIGNED: signed\nREFUSED: refused', enum_type=ConfirmationKind, max_length=7
                    ),
                ),
                ('note', fields.CharField(default='', max_length=300)),
                (
                    'recorded_by',
                    fields.ForeignKeyField(
                        'models.StaffUser',
                        source_field='recorded_by_id',
                        null=True,
                        db_constraint=True,
                        to_field='id',
                        related_name='recorded_confirmations',
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ('recorded_by_label', fields.CharField(default='', max_length=200)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'releaseconfirmation', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Prescription',
            name='created_by',
            field=fields.ForeignKeyField(
                'models.StaffUser',
                source_field='created_by_id',
                null=True,
                db_constraint=True,
                to_field='id',
                related_name='created_prescriptions',
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name='Prescription',
            name='imported',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Prescription',
            name='pd_binocular',
            field=fields.DecimalField(null=True, max_digits=4, decimal_places=1),
        ),
        ops.AddField(
            model_name='Prescription',
            name='pd_od',
            field=fields.DecimalField(null=True, max_digits=4, decimal_places=1),
        ),
        ops.AddField(
            model_name='Prescription',
            name='pd_os',
            field=fields.DecimalField(null=True, max_digits=4, decimal_places=1),
        ),
        ops.AddField(
            model_name='Prescription',
            name='purpose',
            field=fields.CharEnumField(
                null=True,
                description='DISTANCE: distance\nNEAR: near\nCOMPUTER: computer\nPROGRESSIVE: progressive\nOTHER: other',
                enum_type=RxPurpose,
                max_length=11,
            ),
        ),
        ops.AddField(
            model_name='Prescription',
            name='replacement_schedule',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Prescription',
            name='signed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Prescription',
            name='signed_by',
            field=fields.ForeignKeyField(
                'models.StaffUser',
                source_field='signed_by_id',
                null=True,
                db_constraint=True,
                to_field='id',
                related_name='signed_prescriptions',
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name='Prescription',
            name='status',
            field=fields.CharEnumField(
                default=RxStatus.DRAFT,
                description='DRAFT: draft\nFINAL: final\nSUPERSEDED: superseded\nVOID: void',
                db_default='draft',
                enum_type=RxStatus,
                max_length=10,
            ),
        ),
        ops.AddField(
            model_name='Prescription',
            name='superseded_by',
            field=fields.ForeignKeyField(
                'models.Prescription',
                source_field='superseded_by_id',
                null=True,
                db_constraint=True,
                to_field='id',
                related_name='supersedes',
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name='Prescription',
            name='void_reason',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ops.AddField(
            model_name='Prescription',
            name='voided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Prescription',
            index=Index(fields=['patient_id', 'status']),
        ),
        ops.AddField(
            model_name='PrescriptionEye',
            name='add_level',
            field=fields.CharField(default='', db_default='', max_length=4),
        ),
        ops.AddField(
            model_name='PrescriptionEye',
            name='dominance',
            field=fields.CharField(default='', db_default='', max_length=1),
        ),
        ops.AddField(
            model_name='PrescriptionEye',
            name='prism_vertical',
            field=fields.DecimalField(null=True, max_digits=4, decimal_places=2),
        ),
        ops.AddField(
            model_name='PrescriptionEye',
            name='prism_vertical_base',
            field=fields.CharField(default='', db_default='', max_length=2),
        ),
        # Prescriptions written before the lifecycle were already shown to patients: they are final.
        ops.RunSQL("UPDATE prescription SET status = 'final'", reverse_sql=''),
    ]
