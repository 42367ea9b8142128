"""Patients saved before suffix search existed are found by the end of their number after the migration."""

from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from portal.db import apply_migrations, tortoise_config
from tests.databases import fresh_database_url
from tests.test_migrations import _connected, _rows

BEFORE = 'models.0003_appointments'
NOW = "'2026-01-01 09:00:00+00'"


async def test_existing_patients_get_reversed_phone_digits(tmp_path: Path):
    async with fresh_database_url(str(tmp_path)) as url:
        config = tortoise_config(url)
        async with TortoiseContext() as ctx:
            await ctx.init(config=config, init_connections=False)
            await migrate(config=config, target=BEFORE)
        async with _connected(url) as (_, connection):
            await connection.execute_script(
                'INSERT INTO practice (name, phone, address_line1, address_line2, city, state, postal_code, time_zone,'
                ' portal_url, eyewear_sales_exemption, fax, payment_url, reminder_lead_hours, sales_tax_percent,'
                " spectacle_expiry_months, tax_id) VALUES ('P', '1', '', '', '', '', '', 'UTC', '', FALSE, '', '', 48,"
                " '0', 24, '')"
            )
            for digits in ('2075550134', ''):
                await connection.execute_script(
                    'INSERT INTO patient (first_name, last_name, date_of_birth, email, email_normalized, phone,'
                    ' phone_digits, search_name, search_last, address, chart_number, created_at, updated_at,'
                    f" practice_id) VALUES ('A', 'B', '1980-01-01', '', '', '{digits}', '{digits}', '', '', '', '',"
                    f' {NOW}, {NOW}, 1)'
                )
        await apply_migrations(url)
        async with _connected(url) as (_, connection):
            rows = await _rows(connection, 'SELECT phone_reversed, text_blocked_reason FROM patient ORDER BY id')
    assert rows == [
        {'phone_reversed': '4310555702', 'text_blocked_reason': ''},
        {'phone_reversed': '', 'text_blocked_reason': ''},
    ]
