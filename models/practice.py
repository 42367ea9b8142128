from decimal import Decimal

from tortoise import fields
from tortoise.models import Model


# The practice running this portal: its name, phone and URL go into every message.
class Practice(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    phone = fields.CharField(max_length=40)
    address_line1 = fields.CharField(max_length=200, default='')
    address_line2 = fields.CharField(max_length=200, default='')
    city = fields.CharField(max_length=100, default='')
    state = fields.CharField(max_length=50, default='')
    postal_code = fields.CharField(max_length=20, default='')
    time_zone = fields.CharField(max_length=64, default='America/New_York')
    portal_url = fields.CharField(max_length=300, default='')
    fax = fields.CharField(max_length=40, default='', db_default='')
    tax_id = fields.CharField(max_length=30, default='', db_default='')  # printed on receipts (FSA/HSA)
    # Settings the practice changes itself (Practice settings), not the environment.
    spectacle_expiry_months = fields.IntField(default=24, db_default=24)
    eyewear_sales_exemption = fields.BooleanField(
        default=False, db_default=False
    )  # FTC: no financial interest in selling eyewear
    reminder_lead_hours = fields.IntField(default=48, db_default=48)
    sales_tax_percent = fields.DecimalField(
        max_digits=6, decimal_places=3, default=Decimal('0'), db_default=Decimal('0')
    )
    payment_url = fields.CharField(max_length=500, default='', db_default='')
    is_demo = fields.BooleanField(default=False, db_default=False)  # seeded by --demo, with its locations and providers

    @property
    def address(self) -> str:
        street = ', '.join(part for part in (self.address_line1, self.address_line2) if part)
        place = ' '.join(part for part in (f'{self.city},' if self.city else '', self.state, self.postal_code) if part)
        return ', '.join(part for part in (street, place) if part)


class Location(Model):
    id = fields.IntField(primary_key=True)
    practice: fields.ForeignKeyRelation[Practice] = fields.ForeignKeyField('models.Practice', related_name='locations')
    name = fields.CharField(max_length=200)
    address = fields.CharField(max_length=300, default='')
    phone = fields.CharField(max_length=40, default='')
    is_active = fields.BooleanField(default=True, db_default=True)


# A prescriber: name, credentials and licence are printed on every prescription.
class Provider(Model):
    id = fields.IntField(primary_key=True)
    practice: fields.ForeignKeyRelation[Practice] = fields.ForeignKeyField('models.Practice', related_name='providers')
    name = fields.CharField(max_length=200)
    credentials = fields.CharField(max_length=50, default='OD')
    licence_number = fields.CharField(max_length=50, default='')
    licence_state = fields.CharField(max_length=50, default='')
    npi = fields.CharField(max_length=20, default='')
    is_active = fields.BooleanField(default=True, db_default=True)

    @property
    def display_name(self) -> str:
        return f'{self.name}, {self.credentials}' if self.credentials else self.name
