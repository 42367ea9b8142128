"""Invoices as the facts staff enter: lines, tax rate, insurance, adjustments, payments and refunds.

Money is integer cents. No total is stored: `services.invoices.totals_of` derives every total from these
rows, so a total can never be out of step with what it sums. Columns added to tables that already hold
rows carry a database default (`db_default`), so the migration fills the existing rows.
"""

from decimal import Decimal

from tortoise import fields
from tortoise.models import Model

ADJUSTMENT_KINDS = {'write_off': 'Write-off', 'discount': 'Discount'}
PAYMENT_METHODS = {'card': 'Card', 'cash': 'Cash', 'check': 'Check', 'hsa_fsa': 'HSA/FSA card', 'other': 'Other'}


class Invoice(Model):
    id = fields.IntField(primary_key=True)
    patient = fields.ForeignKeyField('models.Patient', related_name='invoices')
    number = fields.CharField(max_length=30, unique=True)
    issued_on = fields.DateField()
    due_on = fields.DateField(null=True)
    # The rendering provider: the receipt names them with their NPI (FSA/HSA administrators ask for it).
    provider = fields.ForeignKeyField('models.Provider', related_name='invoices', null=True, on_delete=fields.SET_NULL)
    # Copied from the practice setting when the invoice is written: a later change of rate never
    # changes an invoice already issued.
    tax_percent = fields.DecimalField(max_digits=6, decimal_places=3, default=Decimal('0'), db_default=0)
    insurance_expected_cents = fields.IntField(default=0, db_default=0)
    insurance_paid_cents = fields.IntField(default=0, db_default=0)
    voided_at = fields.DatetimeField(null=True)
    void_reason = fields.CharField(max_length=300, default='', db_default='')
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        indexes = (('patient_id', 'issued_on'),)

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class InvoiceLine(Model):
    id = fields.IntField(primary_key=True)
    invoice = fields.ForeignKeyField('models.Invoice', related_name='lines')
    service_date = fields.DateField(null=True)  # lines written before this field fall back to the issue date
    description = fields.CharField(max_length=200)
    quantity = fields.IntField(default=1)
    unit_cents = fields.IntField()
    taxable = fields.BooleanField(default=False, db_default=False)  # optical goods often are, exams are not

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_cents

    class Meta:
        # The Billing tab reads every child of the patient's invoices: without it, each read scanned the table.
        indexes = (('invoice_id',),)


class InvoiceAdjustment(Model):
    """Takes an amount off what the patient owes: a write-off or a discount, with the reason why."""

    id = fields.IntField(primary_key=True)
    invoice = fields.ForeignKeyField('models.Invoice', related_name='adjustments')
    kind = fields.CharField(max_length=20)  # one of ADJUSTMENT_KINDS
    amount_cents = fields.IntField()  # positive: the amount taken off
    reason = fields.CharField(max_length=200, default='')
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        # The Billing tab reads every child of the patient's invoices: without it, each read scanned the table.
        indexes = (('invoice_id',),)


class Payment(Model):
    """Money from the patient (kind `payment`) or back to them (kind `refund`); the amount is positive."""

    id = fields.IntField(primary_key=True)
    invoice = fields.ForeignKeyField('models.Invoice', related_name='payments')
    kind = fields.CharField(max_length=10, default='payment', db_default='payment')
    amount_cents = fields.IntField()
    paid_on = fields.DateField()
    method = fields.CharField(max_length=30, default='card')  # one of PAYMENT_METHODS
    reference = fields.CharField(max_length=100, default='', db_default='')  # check number, card authorization...

    @property
    def signed_cents(self) -> int:
        return -self.amount_cents if self.kind == 'refund' else self.amount_cents

    class Meta:
        # The Billing tab reads every child of the patient's invoices: without it, each read scanned the table.
        indexes = (('invoice_id',),)
