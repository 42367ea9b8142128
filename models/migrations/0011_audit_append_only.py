from tortoise import migrations
from tortoise.migrations import operations as ops

# The audit trail is the practice's evidence: the database itself refuses to change or remove a row,
# whatever the application (or a mistaken script) asks. Nothing in the app updates or deletes audit rows;
# `remove-demo` keeps them too. A practice that must purge rows past their retention does it as the
# database owner, dropping the trigger for that maintenance (docs/security.md).
MESSAGE = 'the audit trail is append-only'

SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS auditevent_no_update BEFORE UPDATE ON auditevent BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS auditevent_no_delete BEFORE DELETE ON auditevent BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
POSTGRES = [
    'CREATE OR REPLACE FUNCTION auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS '
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$",
    'DROP TRIGGER IF EXISTS auditevent_no_update_delete ON auditevent',
    'CREATE TRIGGER auditevent_no_update_delete BEFORE UPDATE OR DELETE ON auditevent '
    'FOR EACH ROW EXECUTE FUNCTION auditevent_append_only()',
    'DROP TRIGGER IF EXISTS auditevent_no_truncate ON auditevent',
    'CREATE TRIGGER auditevent_no_truncate BEFORE TRUNCATE ON auditevent '
    'FOR EACH STATEMENT EXECUTE FUNCTION auditevent_append_only()',
]
SQLITE_REVERSE = ['DROP TRIGGER IF EXISTS auditevent_no_update', 'DROP TRIGGER IF EXISTS auditevent_no_delete']
POSTGRES_REVERSE = [
    'DROP TRIGGER IF EXISTS auditevent_no_update_delete ON auditevent',
    'DROP TRIGGER IF EXISTS auditevent_no_truncate ON auditevent',
    'DROP FUNCTION IF EXISTS auditevent_append_only()',
]


async def _run(schema_editor: object, sqlite: list[str], postgres: list[str]) -> None:
    client = schema_editor.client
    for statement in sqlite if client.capabilities.dialect == 'sqlite' else postgres:
        await client.execute_script(statement)


async def forward(apps: object, schema_editor: object) -> None:
    await _run(schema_editor, SQLITE, POSTGRES)


async def backward(apps: object, schema_editor: object) -> None:
    await _run(schema_editor, SQLITE_REVERSE, POSTGRES_REVERSE)


class Migration(migrations.Migration):
    dependencies = [('models', '0010_api_clients')]

    initial = False

    operations = [ops.RunPython(forward, backward)]
