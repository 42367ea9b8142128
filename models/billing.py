from tortoise import fields
from tortoise.models import Model


# Money is integer cents. Totals are kept on the invoice so a balance is one query.
class Invoice(Model):
    id = fields.IntField(primary_key=True)
    patient = fields.ForeignKeyField('models.Patient', related_name='invoices')
    number = fields.CharField(max_length=30, unique=True)
    issued_on = fields.DateField()
    due_on = fields.DateField(null=True)
    total_cents = fields.IntField(default=0)
    paid_cents = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        indexes = (('patient_id', 'issued_on'),)

    @property
    def balance_cents(self) -> int:
        return self.total_cents - self.paid_cents


class InvoiceLine(Model):
    id = fields.IntField(primary_key=True)
    invoice = fields.ForeignKeyField('models.Invoice', related_name='lines')
    description = fields.CharField(max_length=200)
    quantity = fields.IntField(default=1)
    unit_cents = fields.IntField()

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_cents


class Payment(Model):
    id = fields.IntField(primary_key=True)
    invoice = fields.ForeignKeyField('models.Invoice', related_name='payments')
    amount_cents = fields.IntField()
    paid_on = fields.DateField()
    method = fields.CharField(max_length=30, default='card')
