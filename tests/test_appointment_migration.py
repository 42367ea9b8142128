"""Existing appointments and requests survive the migration that gives them statuses and pending slots."""

from pathlib import Path

from portal.db import apply_migrations
from tests.databases import fresh_database_url
from tests.test_migrations import NOW, OLD_PRACTICE_ROW, _connected, _rows, migrated_to, old_patient_row

BEFORE = 'models.0002_practice_settings'


async def _seed_old_rows(url: str) -> None:
    await migrated_to(url, BEFORE)
    async with _connected(url) as (_, connection):
        await connection.execute_script(OLD_PRACTICE_ROW)
        for n in (1, 2):
            await connection.execute_script(old_patient_row(last_name=f'B{n}'))
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
