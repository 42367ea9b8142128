from tortoise import migrations
from tortoise.migrations import operations as ops
from decimal import Decimal
from tortoise.fields.base import OnDelete
from tortoise import fields


class DropColumn(ops.RemoveField):
    """RemoveField as a plain ALTER TABLE ... DROP COLUMN (PostgreSQL, and SQLite since 3.35).

    Tortoise drops a SQLite column by rebuilding the table; dropping the old `invoice` table with foreign
    keys on cascades to every invoice line and payment. A native drop keeps them (and the indexes).
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:  # noqa: ANN001
        if not state_editor:
            return
        table = old_state.apps.get_model(f'{app_label}.{self.model_name}')._meta.db_table
        await state_editor._run_sql(f'ALTER TABLE "{table}" DROP COLUMN "{self.name}"')


class Migration(migrations.Migration):
    dependencies = [('models', '0004_messages')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InvoiceAdjustment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    'invoice',
                    fields.ForeignKeyField(
                        'models.Invoice',
                        source_field='invoice_id',
                        db_constraint=True,
                        to_field='id',
                        related_name='adjustments',
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ('kind', fields.CharField(max_length=20)),
                ('amount_cents', fields.IntField()),
                ('reason', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                'table': 'invoiceadjustment',
                'app': 'models',
                'pk_attr': 'id',
                'table_description': 'Takes an amount off what the patient owes: a write-off or a discount, with the reason why.',
            },
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invoice',
            name='insurance_expected_cents',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Invoice',
            name='insurance_paid_cents',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Invoice',
            name='provider',
            field=fields.ForeignKeyField(
                'models.Provider',
                source_field='provider_id',
                null=True,
                db_constraint=True,
                to_field='id',
                related_name='invoices',
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name='Invoice',
            name='tax_percent',
            field=fields.DecimalField(default=Decimal('0'), db_default=0, max_digits=6, decimal_places=3),
        ),
        ops.AddField(
            model_name='Invoice',
            name='void_reason',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ops.AddField(
            model_name='Invoice',
            name='voided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # Stored totals go: every total is derived from the lines, adjustments and payments these rows keep.
        DropColumn(model_name='Invoice', name='paid_cents'),
        DropColumn(model_name='Invoice', name='total_cents'),
        ops.AddField(
            model_name='InvoiceLine',
            name='service_date',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='InvoiceLine',
            name='taxable',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AlterModelOptions(
            name='Payment',
            options={
                'table': 'payment',
                'app': 'models',
                'pk_attr': 'id',
                'table_description': 'Money from the patient (kind `payment`) or back to them (kind `refund`); the amount is positive.',
            },
        ),
        ops.AddField(
            model_name='Payment',
            name='kind',
            field=fields.CharField(default='payment', db_default='payment', max_length=10),
        ),
        ops.AddField(
            model_name='Payment',
            name='reference',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
    ]
