"""Patients saved before `email_valid` existed get it from the forms' own validation when the database upgrades."""

from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from portal.db import apply_migrations, tortoise_config
from tests.databases import fresh_database_url
from tests.test_migrations import _connected, _rows

BEFORE = 'models.0013_staff_totp'
NOW = "'2026-01-01 09:00:00+00'"


async def test_existing_patients_get_their_address_checked_once(tmp_path: Path):
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
            for email in ('jamie@example.com', 'jamie@@example', ''):
                await connection.execute_script(
                    'INSERT INTO patient (first_name, last_name, date_of_birth, email, email_normalized, phone,'
                    ' phone_digits, search_name, search_last, address, chart_number, created_at, updated_at,'
                    f" practice_id) VALUES ('A', 'B', '1980-01-01', '{email}', '{email}', '', '', '', '', '', '',"
                    f' {NOW}, {NOW}, 1)'
                )
        await apply_migrations(url)
        async with _connected(url) as (_, connection):
            rows = await _rows(connection, 'SELECT email, email_valid FROM patient ORDER BY id')
    assert [(row['email'], bool(row['email_valid'])) for row in rows] == [
        ('jamie@example.com', True),
        ('jamie@@example', False),
        ('', False),
    ]
