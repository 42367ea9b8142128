from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models.csv_import import ImportKind

KINDS = 'PATIENTS: patients\nPRESCRIPTIONS: prescriptions\nAPPOINTMENTS: appointments\nINVOICES: invoices'


class DescribeKinds(ops.AlterField):
    """Two more import kinds: only the enum's description changes (the column already holds 13 characters), so
    nothing is done to the tables. A real ALTER would rebuild the table on SQLite and lose its index."""

    async def database_forward(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def database_backward(self, *args: Any, **kwargs: Any) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0014_patient_email_valid')]

    initial = False

    operations = [
        DescribeKinds(
            model_name='ImportJob',
            name='kind',
            field=fields.CharEnumField(description=KINDS, enum_type=ImportKind, max_length=13),
        ),
        DescribeKinds(
            model_name='ImportMapping',
            name='kind',
            field=fields.CharEnumField(unique=True, description=KINDS, enum_type=ImportKind, max_length=13),
        ),
    ]
