from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


async def fill_phone_reversed(apps: object, schema_editor: object) -> None:
    """Existing patients get their reversed digits, so search finds them by the end of their number."""
    client = schema_editor.client
    update = 'UPDATE patient SET phone_reversed = {} WHERE id = {}'
    update = update.format('?', '?') if client.capabilities.dialect == 'sqlite' else update.format('$1', '$2')
    _, rows = await client.execute_query("SELECT id, phone_digits FROM patient WHERE phone_digits <> ''")
    for row in rows:
        await client.execute_query(update, [row['phone_digits'][::-1], row['id']])


class Migration(migrations.Migration):
    dependencies = [('models', '0003_appointments')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxMessage',
            name='html_body',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='permanent_failure',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='sent_by',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Patient',
            name='phone_reversed',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=20),
        ),
        ops.AddField(
            model_name='Patient',
            name='text_blocked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Patient',
            name='text_blocked_reason',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        # AddField does not build the index of a db_index field: named as generate_schemas names it.
        ops.RunSQL('CREATE INDEX IF NOT EXISTS "idx_patient_phone_r_91dfb1" ON patient (phone_reversed)'),
        ops.RunPython(fill_phone_reversed, ops.RunPython.noop),
    ]
