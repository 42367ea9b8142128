from tortoise import migrations
from tortoise.migrations import operations as ops
from decimal import Decimal
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Location',
            name='is_active',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='Practice',
            name='eyewear_sales_exemption',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Practice',
            name='fax',
            field=fields.CharField(default='', db_default='', max_length=40),
        ),
        ops.AddField(
            model_name='Practice',
            name='payment_url',
            field=fields.CharField(default='', db_default='', max_length=500),
        ),
        ops.AddField(
            model_name='Practice',
            name='reminder_lead_hours',
            field=fields.IntField(default=48, db_default=48),
        ),
        ops.AddField(
            model_name='Practice',
            name='sales_tax_percent',
            field=fields.DecimalField(default=Decimal('0'), db_default=Decimal('0'), max_digits=6, decimal_places=3),
        ),
        ops.AddField(
            model_name='Practice',
            name='spectacle_expiry_months',
            field=fields.IntField(default=24, db_default=24),
        ),
        ops.AddField(
            model_name='Practice',
            name='tax_id',
            field=fields.CharField(default='', db_default='', max_length=30),
        ),
        ops.AddField(
            model_name='Provider',
            name='is_active',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='is_demo',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='provider',
            field=fields.OneToOneField(
                'models.Provider',
                source_field='provider_id',
                null=True,
                db_constraint=True,
                to_field='id',
                related_name='staff_account',
                on_delete=OnDelete.SET_NULL,
            ),
        ),
    ]
