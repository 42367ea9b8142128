from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0009_demo_marks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiClient',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('scopes', fields.CharField(max_length=1000)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
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
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'apiclient', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ExternalIdentifier',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('resource_type', fields.CharField(max_length=40)),
                ('system', fields.CharField(max_length=300)),
                ('value', fields.CharField(max_length=200)),
                ('object_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                'table': 'externalidentifier',
                'app': 'models',
                'unique_together': (('resource_type', 'system', 'value'),),
                'indexes': [Index(fields=['resource_type', 'object_id'])],
                'pk_attr': 'id',
                'table_description': 'An id a source system gave one of our records (a FHIR `identifier` system + value).',
            },
            bases=['Model'],
        ),
    ]
