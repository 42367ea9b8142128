from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0012_csv_import')]

    initial = False

    operations = [
        ops.CreateModel(
            name='StaffRecoveryCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    'staff',
                    fields.ForeignKeyField(
                        'models.StaffUser',
                        source_field='staff_id',
                        db_constraint=True,
                        to_field='id',
                        related_name='recovery_codes',
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staffrecoverycode', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='StaffUser',
            name='totp_last_step',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='totp_secret',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
    ]
