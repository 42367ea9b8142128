from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0016_prescription_eye_index')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='RxVerificationCode',
            index=Index(fields=['prescription_id']),
        ),
    ]
