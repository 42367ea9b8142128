from tortoise import migrations
from tortoise.migrations import operations as ops
from models.csv_import import ImportKind, JobStatus, RowOutcome
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0011_audit_append_only')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ImportJob',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    'kind',
                    fields.CharEnumField(
                        description='PATIENTS: patients\nPRESCRIPTIONS: prescriptions',
                        enum_type=ImportKind,
                        max_length=13,
                    ),
                ),
                (
                    'status',
                    fields.CharEnumField(
                        default=JobStatus.QUEUED,
                        db_index=True,
                        description='QUEUED: queued\nRUNNING: running\nDONE: done\nFAILED: failed',
                        enum_type=JobStatus,
                        max_length=7,
                    ),
                ),
                ('file_name', fields.CharField(default='', max_length=200)),
                ('content', fields.TextField(unique=False)),
                ('mapping', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                (
                    'created_by',
                    fields.ForeignKeyField(
                        'models.StaffUser',
                        source_field='created_by_id',
                        null=True,
                        db_constraint=True,
                        to_field='id',
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('worker', fields.CharField(default='', max_length=64)),
                ('heartbeat_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('total_rows', fields.IntField(default=0)),
                ('next_row', fields.IntField(default=0)),
                ('created', fields.IntField(default=0)),
                ('updated', fields.IntField(default=0)),
                ('unchanged', fields.IntField(default=0)),
                ('refused', fields.IntField(default=0)),
                ('held', fields.IntField(default=0)),
                ('error', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'importjob', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ImportMapping',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    'kind',
                    fields.CharEnumField(
                        unique=True,
                        description='PATIENTS: patients\nPRESCRIPTIONS: prescriptions',
                        enum_type=ImportKind,
                        max_length=13,
                    ),
                ),
                ('mapping', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'importmapping', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ImportRow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    'job',
                    fields.ForeignKeyField(
                        'models.ImportJob',
                        source_field='job_id',
                        db_constraint=True,
                        to_field='id',
                        related_name='rows',
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ('row_number', fields.IntField()),
                (
                    'outcome',
                    fields.CharEnumField(
                        description='REFUSED: refused\nHELD: held\nNOTE: note', enum_type=RowOutcome, max_length=7
                    ),
                ),
                ('reason', fields.CharField(max_length=500)),
                ('values', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('candidates', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('patient_id', fields.IntField(null=True)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_by_label', fields.CharField(default='', max_length=200)),
            ],
            options={
                'table': 'importrow',
                'app': 'models',
                'indexes': [Index(fields=['job_id', 'outcome'])],
                'pk_attr': 'id',
            },
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Patient',
            name='imported_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Patient',
            index=Index(fields=['chart_number']),
        ),
    ]
