"""Patients saved before suffix search existed are found by the end of their number after the migration."""

from pathlib import Path

from portal.db import apply_migrations
from tests.databases import fresh_database_url
from tests.test_migrations import OLD_PRACTICE_ROW, _connected, _rows, migrated_to, old_patient_row

BEFORE = 'models.0003_appointments'


async def test_existing_patients_get_reversed_phone_digits(tmp_path: Path):
    async with fresh_database_url(str(tmp_path)) as url:
        await migrated_to(url, BEFORE)
        async with _connected(url) as (_, connection):
            await connection.execute_script(OLD_PRACTICE_ROW)
            for digits in ('2075550134', ''):
                await connection.execute_script(old_patient_row(phone=digits))
        await apply_migrations(url)
        async with _connected(url) as (_, connection):
            rows = await _rows(connection, 'SELECT phone_reversed, text_blocked_reason FROM patient ORDER BY id')
    assert rows == [
        {'phone_reversed': '4310555702', 'text_blocked_reason': ''},
        {'phone_reversed': '', 'text_blocked_reason': ''},
    ]
