from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


async def fill_email_valid(apps: object, schema_editor: object) -> None:
    """Existing patients get their address checked once, by the same validation the forms use."""
    from services.email_addresses import is_valid_email

    client = schema_editor.client
    update = 'UPDATE patient SET email_valid = {} WHERE id = {}'
    update = update.format('?', '?') if client.capabilities.dialect == 'sqlite' else update.format('$1', '$2')
    _, rows = await client.execute_query("SELECT id, email FROM patient WHERE email <> ''")
    for row in rows:
        if is_valid_email(row['email']):
            await client.execute_query(update, [True, row['id']])


class Migration(migrations.Migration):
    dependencies = [('models', '0013_staff_totp')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Patient',
            name='email_valid',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunPython(fill_email_valid, ops.RunPython.noop),
    ]
