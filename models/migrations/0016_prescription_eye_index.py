from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0015_import_kinds')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='PrescriptionEye',
            index=Index(fields=['prescription_id']),
        ),
    ]
