"""Existing appointments and requests survive the migration that gives them statuses and pending slots."""

from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from portal.db import apply_migrations, tortoise_config
from tests.databases import fresh_database_url
from tests.test_migrations import _connected, _rows

BEFORE = 'models.0002_practice_settings'
NOW = "'2026-01-01 09:00:00+00'"


async def _seed_old_rows(url: str) -> None:
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
        for n in (1, 2):
            await connection.execute_script(
                'INSERT INTO patient (first_name, last_name, date_of_birth, email, email_normalized, phone,'
                ' phone_digits, search_name, search_last, address, chart_number, created_at, updated_at,'
                f" practice_id) VALUES ('A', 'B{n}', '1980-01-01', '', '', '', '', '', '', '', '', {NOW}, {NOW}, 1)"
            )
        for status in ('scheduled', 'canceled', 'completed'):
            await connection.execute_script(
                'INSERT INTO appointment (patient_id, starts_at, duration_minutes, reason, status)'
                f" VALUES (1, {NOW}, 30, 'Exam', '{status}')"
            )
        for patient_id, status in ((1, 'pending'), (1, 'declined'), (1, 'pending'), (2, 'pending')):
            await connection.execute_script(
                'INSERT INTO appointmentrequest (patient_id, reason, preferred_times, status, created_at)'
                f" VALUES ({patient_id}, 'Exam', '', '{status}', {NOW})"
            )


async def test_old_appointments_are_booked_and_old_pending_requests_take_slots(tmp_path: Path):
    async with fresh_database_url(str(tmp_path)) as url:
        await _seed_old_rows(url)
        await apply_migrations(url)
        async with _connected(url) as (_, connection):
            statuses = await _rows(connection, 'SELECT status FROM appointment ORDER BY id')
            requests = await _rows(
                connection, 'SELECT patient_id, status, pending_slot FROM appointmentrequest ORDER BY id'
            )

    assert [r['status'] for r in statuses] == ['booked', 'cancelled', 'completed']
    assert [(r['patient_id'], r['status'], r['pending_slot']) for r in requests] == [
        (1, 'pending', 1),
        (1, 'declined', None),
        (1, 'pending', 2),
        (2, 'pending', 1),
    ]
