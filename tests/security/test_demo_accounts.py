"""Demo rows are marked, and never share a running portal with real ones: a start without --demo on a
demo database refuses (the demo admin's password is published), `--demo` on real records refuses (the dev
mailbox would show their login links), and `remove-demo` deletes the demo and keeps the real records."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from models.audit import AuditEvent
from models.patient import Patient
from models.practice import Practice, Provider
from models.prescription import Prescription
from models.staff import StaffUser
from portal.db import apply_migrations, tortoise_config
from services import demo_data
from services.demo_practice import DEMO_ADMIN_EMAIL, seed_demo_practice
from tests import factories
from tests.databases import fresh_database_url
from tests.test_cli import run

BASE_URL = 'http://portal.test'


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database_url(str(tmp_path)) as url:
        yield url


async def test_every_seeded_account_patient_and_the_practice_are_marked_demo(db):
    await seed_demo_practice(BASE_URL)

    assert await StaffUser.filter(is_demo=False).count() == 0
    assert await StaffUser.filter(is_demo=True).count() == 4  # admin (the first prescriber), front desk, two more
    assert await Patient.filter(is_demo=False).count() == 0
    assert await Practice.filter(is_demo=True).count() == 1
    state = await demo_data.demo_state()
    assert state.has_demo and not state.has_real


async def test_remove_demo_keeps_the_real_staff_and_the_audit_trail(db):
    await seed_demo_practice(BASE_URL)
    real = await factories.make_staff(email='owner@real-practice.org', name='Real Owner')
    audit_rows = await AuditEvent.all().count()

    removed = await demo_data.remove_demo()

    assert removed.practice_removed and removed.patients == 25
    assert [s.email for s in await StaffUser.all()] == [real.email]
    assert not await Patient.exists() and not await Practice.exists() and not await Prescription.exists()
    assert await AuditEvent.all().count() == audit_rows  # the trail stays
    state = await demo_data.demo_state()
    assert not state.has_demo and state.has_real


async def test_remove_demo_keeps_real_patients_and_the_practice_they_belong_to(db):
    await seed_demo_practice(BASE_URL)
    practice = await Practice.get()
    provider = await Provider.filter(practice_id=practice.id).first()
    real = await factories.make_patient(practice, first_name='Real', last_name='Person')
    rx = await factories.make_spectacle_rx(real, provider)

    await demo_data.remove_demo()

    assert [p.id for p in await Patient.all()] == [real.id]
    assert await Prescription.filter(id=rx.id).exists()
    assert not (await Practice.get(id=practice.id)).is_demo
    assert not await StaffUser.exists(email=DEMO_ADMIN_EMAIL)
    assert not (await demo_data.demo_state()).has_demo


async def _seeded(url: str, *, demo: bool, real_staff: bool = False) -> None:
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        if demo:
            await seed_demo_practice(BASE_URL)
        if real_staff:
            await factories.make_staff(email='owner@real-practice.org', name='Real Owner')


async def test_a_start_without_demo_on_a_demo_database_refuses_until_remove_demo(tmp_path: Path, database_url: str):
    await _seeded(database_url, demo=True)

    refused = run(tmp_path, database_url)
    assert refused.returncode == 1
    assert 'This database holds the demo practice' in refused.stderr
    assert 'python main.py remove-demo' in refused.stderr and 'Traceback' not in refused.stderr

    removed = run(tmp_path, database_url, 'remove-demo')
    assert removed.returncode == 0, removed.stderr
    assert 'Removed 4 demo staff accounts and 25 demo patients' in removed.stdout
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        assert not (await demo_data.demo_state()).has_demo


async def test_demo_on_a_database_with_real_records_refuses(tmp_path: Path, database_url: str):
    await _seeded(database_url, demo=False, real_staff=True)

    refused = run(tmp_path, database_url, '--demo')

    assert refused.returncode == 1
    assert 'This database holds real records (1 staff accounts' in refused.stderr
    assert 'Traceback' not in refused.stderr


async def test_a_database_seeded_before_the_marks_existed_gets_them_from_the_migration(db):
    """Upgrading a demo database seeded by an older version: migration 0009 finds the demo rows."""
    import importlib

    migration = importlib.import_module('models.migrations.0009_demo_marks')
    await seed_demo_practice(BASE_URL)
    real = await factories.make_patient(await Practice.get(), first_name='Real', last_name='Person')
    for model in (StaffUser, Patient, Practice):
        await model.all().update(is_demo=False)  # as an older version left them
    connection = Patient._meta.db
    [statements] = [op.sql for op in migration.Migration.operations if hasattr(op, 'sql')]

    for statement in statements:
        await connection.execute_script(statement)

    assert await StaffUser.filter(is_demo=False).count() == 0
    assert await Patient.filter(is_demo=False).values_list('id', flat=True) == [real.id]
    assert await Practice.filter(is_demo=True).count() == 1
