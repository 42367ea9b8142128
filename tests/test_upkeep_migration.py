"""Patients saved before `email_valid` existed get it from the forms' own validation when the database upgrades."""

from pathlib import Path

from portal.db import apply_migrations
from tests.databases import fresh_database_url
from tests.test_migrations import OLD_PRACTICE_ROW, _connected, _rows, migrated_to, old_patient_row

BEFORE = 'models.0013_staff_totp'


async def test_existing_patients_get_their_address_checked_once(tmp_path: Path):
    async with fresh_database_url(str(tmp_path)) as url:
        await migrated_to(url, BEFORE)
        async with _connected(url) as (_, connection):
            await connection.execute_script(OLD_PRACTICE_ROW)
            for email in ('jamie@example.com', 'jamie@@example', ''):
                await connection.execute_script(old_patient_row(email=email))
        await apply_migrations(url)
        async with _connected(url) as (_, connection):
            rows = await _rows(connection, 'SELECT email, email_valid FROM patient ORDER BY id')
    assert [(row['email'], bool(row['email_valid'])) for row in rows] == [
        ('jamie@example.com', True),
        ('jamie@@example', False),
        ('', False),
    ]
