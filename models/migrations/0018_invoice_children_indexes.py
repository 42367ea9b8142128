from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0017_rx_verification_code_index')]

    initial = False

    operations = [
        ops.AddIndex(model_name=model, index=Index(fields=['invoice_id']))
        for model in ('InvoiceLine', 'InvoiceAdjustment', 'Payment')
    ]
