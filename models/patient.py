from tortoise import fields
from tortoise.models import Model


# A chart. The email as typed is kept; the normalised form drives matching and search.
# The search_* columns are lowercase ASCII (see services.patients) so staff search can use prefix
# range scans on plain indexes in SQLite and PostgreSQL alike.
class Patient(Model):
    id = fields.IntField(primary_key=True)
    practice = fields.ForeignKeyField('models.Practice', related_name='patients')
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    date_of_birth = fields.DateField(db_index=True)
    email = fields.CharField(max_length=320, default='')
    email_normalized = fields.CharField(max_length=320, default='', db_index=True)
    # Whether `email` passes the form's validation, kept with the record so Email upkeep can count the
    # invalid ones among 100,000 patients in one query instead of validating each address on every visit.
    email_valid = fields.BooleanField(default=False, db_default=False)
    phone = fields.CharField(max_length=40, default='')
    phone_digits = fields.CharField(max_length=20, default='', db_index=True)
    phone_reversed = fields.CharField(
        max_length=20, default='', db_default='', db_index=True
    )  # digits backwards: suffix search
    # Set when the SMS provider said the number refused texts (the patient replied STOP); cleared with a new number.
    text_blocked_reason = fields.CharField(max_length=300, default='', db_default='')
    text_blocked_at = fields.DatetimeField(null=True)
    search_name = fields.CharField(max_length=210, default='', db_index=True)  # 'first last', folded
    search_last = fields.CharField(max_length=210, default='', db_index=True)  # 'last first', folded
    address = fields.CharField(max_length=300, default='')
    chart_number = fields.CharField(max_length=30, default='')  # the practice system's id: imports match on it
    imported_at = fields.DatetimeField(null=True)  # set when a CSV import created the record
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    is_demo = fields.BooleanField(default=False, db_default=False)  # seeded by --demo; `remove-demo` deletes it

    class Meta:
        indexes = (('last_name', 'first_name'), ('chart_number',))

    @property
    def full_name(self) -> str:
        return f'{self.first_name} {self.last_name}'
