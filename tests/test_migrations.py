"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and are idempotent.

Service tests run on `generate_schemas()`; production runs on the migrations. These tests keep the two
from drifting apart: a model change without a regenerated migration fails here.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate
from tortoise.migrations.autodetector import MigrationAutodetector

from models import MODEL_MODULES
from portal.db import apply_migrations, tortoise_config
from tests.databases import fresh_database_url

RECORDER_TABLE = 'tortoise_migrations'
Schema = dict[str, object]


@asynccontextmanager
async def _connected(url: str) -> AsyncIterator[tuple[TortoiseContext, BaseDBAsyncClient]]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        try:
            yield ctx, ctx.connections.get('default')
        finally:
            await ctx.close_connections()


async def _rows(connection: BaseDBAsyncClient, sql: str) -> list[dict]:
    return [dict(row) for row in await connection.execute_query_dict(sql)]


async def _sqlite_schema(connection: BaseDBAsyncClient) -> Schema:
    tables = await _rows(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    schema: Schema = {}
    for name in sorted(t['name'] for t in tables if t['name'] != RECORDER_TABLE):
        columns = sorted(
            (c['name'], c['type'].upper(), bool(c['notnull']), bool(c['pk']))
            for c in await _rows(connection, f'PRAGMA table_info("{name}")')
        )
        indexes = set()
        for index in await _rows(connection, f'PRAGMA index_list("{name}")'):
            cols = [i['name'] for i in await _rows(connection, f'PRAGMA index_info("{index["name"]}")')]
            indexes.add((tuple(cols), bool(index['unique'])))
        foreign_keys = sorted(
            (f['from'], f['table'], f['to'], f['on_delete'])
            for f in await _rows(connection, f'PRAGMA foreign_key_list("{name}")')
        )
        schema[name] = {'columns': columns, 'indexes': sorted(indexes), 'foreign_keys': foreign_keys}
    return schema


async def _postgres_schema(connection: BaseDBAsyncClient) -> Schema:
    columns = await _rows(
        connection,
        """SELECT table_name, column_name, data_type, is_nullable, character_maximum_length
           FROM information_schema.columns WHERE table_schema = 'public'""",
    )
    indexes = await _rows(
        connection,
        """SELECT t.relname AS table_name, ix.indisunique AS is_unique,
                  array_to_string(array_agg(a.attname ORDER BY k.n), ',') AS columns
           FROM pg_index ix
           JOIN pg_class t ON t.oid = ix.indrelid
           JOIN pg_namespace ns ON ns.oid = t.relnamespace AND ns.nspname = 'public'
           JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n) ON true
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
           GROUP BY t.relname, ix.indexrelid, ix.indisunique""",
    )
    foreign_keys = await _rows(
        connection,
        """SELECT tc.table_name, kcu.column_name, ccu.table_name AS target, rc.delete_rule
           FROM information_schema.table_constraints tc
           JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name
           JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name
           JOIN information_schema.referential_constraints rc ON rc.constraint_name = tc.constraint_name
           WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'""",
    )
    schema: Schema = {}
    for name in sorted({c['table_name'] for c in columns} - {RECORDER_TABLE}):
        schema[name] = {
            'columns': sorted(
                (c['column_name'], c['data_type'], c['is_nullable'], c['character_maximum_length'])
                for c in columns
                if c['table_name'] == name
            ),
            'indexes': sorted({(i['columns'], i['is_unique']) for i in indexes if i['table_name'] == name}),
            'foreign_keys': sorted(
                (f['column_name'], f['target'], f['delete_rule']) for f in foreign_keys if f['table_name'] == name
            ),
        }
    return schema


async def _schema(url: str) -> Schema:
    async with _connected(url) as (_, connection):
        if url.startswith('sqlite'):
            return await _sqlite_schema(connection)
        return await _postgres_schema(connection)


async def _applied(url: str) -> list[str]:
    async with _connected(url) as (_, connection):
        rows = await _rows(connection, f'SELECT app, name FROM "{RECORDER_TABLE}" ORDER BY app, name')
    return [f'{r["app"]}.{r["name"]}' for r in rows]


async def test_migrations_describe_the_models_exactly():
    config = tortoise_config('sqlite://:memory:')
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        changes = await MigrationAutodetector(ctx.apps, config['apps']).changes()
    assert changes == [], 'models changed without a migration: regenerate models/migrations/0001_initial.py'


async def test_migrated_database_matches_the_schema_the_models_generate(tmp_path: Path):
    async with (
        fresh_database_url(str(tmp_path / 'migrated')) as migrated,
        fresh_database_url(str(tmp_path / 'generated')) as generated,
    ):
        await apply_migrations(migrated)
        async with _connected(generated) as (ctx, _):
            await ctx.generate_schemas(safe=False)

        migrated_schema, generated_schema = await _schema(migrated), await _schema(generated)

    assert len(migrated_schema) >= len(MODEL_MODULES)
    assert {'patient', 'portalaccount', 'logintoken', 'outboxmessage', 'auditevent'} <= set(migrated_schema)
    assert migrated_schema == generated_schema


async def test_the_one_active_account_per_address_rule_is_in_the_migrated_schema(tmp_path: Path):
    async with fresh_database_url(str(tmp_path)) as url:
        await apply_migrations(url)
        schema = await _schema(url)
    unique = [cols for cols, is_unique in schema['portalaccount']['indexes'] if is_unique]
    assert any(cols in (('active_email',), 'active_email') for cols in unique), schema['portalaccount']


async def test_applying_migrations_twice_is_a_no_op(tmp_path: Path):
    async with fresh_database_url(str(tmp_path)) as url:
        await apply_migrations(url)
        schema, applied = await _schema(url), await _applied(url)
        await apply_migrations(url)
        assert await _schema(url) == schema
        assert await _applied(url) == applied
    assert 'models.0001_initial' in applied


async def test_instances_starting_together_migrate_once(tmp_path: Path):
    """Several app instances share one PostgreSQL: started at the same moment, none trips over another."""
    async with fresh_database_url(str(tmp_path)) as url:
        await asyncio.gather(*(apply_migrations(url) for _ in range(3)))
        assert 'models.0001_initial' in await _applied(url)
        assert await _schema(url) == await _schema_after_fresh_migration(tmp_path / 'again')


async def _schema_after_fresh_migration(folder: Path) -> Schema:
    folder.mkdir()
    async with fresh_database_url(str(folder)) as url:
        await apply_migrations(url)
        return await _schema(url)


NOW = "'2026-01-01 09:00:00+00'"
# A practice as every migration since 0002 can hold it (later columns have database defaults).
OLD_PRACTICE_ROW = (
    'INSERT INTO practice (name, phone, address_line1, address_line2, city, state, postal_code, time_zone,'
    ' portal_url, eyewear_sales_exemption, fax, payment_url, reminder_lead_hours, sales_tax_percent,'
    " spectacle_expiry_months, tax_id) VALUES ('P', '1', '', '', '', '', '', 'UTC', '', FALSE, '', '', 48,"
    " '0', 24, '')"
)


def old_patient_row(*, last_name: str = 'B', email: str = '', phone: str = '') -> str:
    """A patient of practice 1 with only the columns the first migrations had (the phone's digits as typed)."""
    return (
        'INSERT INTO patient (first_name, last_name, date_of_birth, email, email_normalized, phone,'
        ' phone_digits, search_name, search_last, address, chart_number, created_at, updated_at,'
        f" practice_id) VALUES ('A', '{last_name}', '1980-01-01', '{email}', '{email}', '{phone}', '{phone}', '',"
        f" '', '', '', {NOW}, {NOW}, 1)"
    )


async def migrated_to(url: str, target: str) -> None:
    """The schema as it stood at `target`: the start of a test that upgrades rows an older version wrote."""
    config = tortoise_config(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        await migrate(config=config, target=target)
