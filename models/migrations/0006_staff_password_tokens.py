from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0005_billing')]

    initial = False

    operations = [
        ops.CreateModel(
            name='StaffPasswordToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    'staff',
                    fields.ForeignKeyField(
                        'models.StaffUser',
                        source_field='staff_id',
                        db_constraint=True,
                        to_field='id',
                        related_name='password_tokens',
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ('jti_hash', fields.CharField(unique=True, max_length=64)),
                ('purpose', fields.CharField(max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('invalidated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staffpasswordtoken', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
