"""The audit trail: the database refuses to change or delete a row (SQLite and PostgreSQL), and an
administrator reads it on the Audit page, filtered by patient, actor, action and dates, or as CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from nicegui import ui
from nicegui.testing import User
from tortoise.context import TortoiseContext

from models.audit import AuditEvent
from portal.db import apply_migrations, tortoise_config
from services import audit
from tests import factories
from tests.databases import fresh_database_url
from tests.test_staff_console import open_profile, staff_sign_in


async def test_a_migrated_database_refuses_to_change_or_delete_audit_rows(tmp_path):
    async with fresh_database_url(str(tmp_path)) as url:
        await apply_migrations(url)
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url))
            event = await audit.record('rx.viewed', audit.Actor.patient(7, '203.0.113.5'), patient_id=3)
            connection = ctx.connections.get('default')
            attempts = [
                lambda: AuditEvent.filter(id=event.id).update(actor_label='someone else'),
                lambda: AuditEvent.filter(id=event.id).delete(),
                lambda: event.delete(),
                lambda: connection.execute_script('DELETE FROM auditevent'),
                lambda: connection.execute_script("UPDATE auditevent SET action = 'rx.nothing'"),
            ]
            if connection.capabilities.dialect == 'postgres':
                attempts.append(lambda: connection.execute_script('TRUNCATE auditevent'))
            for attempt in attempts:
                with pytest.raises(Exception, match='append-only'):
                    await attempt()
            stored = await AuditEvent.get(id=event.id)
            assert (stored.action, stored.actor_label) == ('rx.viewed', 'patient')
            await audit.record('rx.printed', audit.SYSTEM)  # appending still works
            assert await AuditEvent.all().count() == 2


async def test_service_tests_run_with_the_same_triggers(db):
    event = await audit.record('staff.signed_in', audit.SYSTEM)
    with pytest.raises(Exception, match='append-only'):
        await AuditEvent.filter(id=event.id).delete()


async def test_the_trail_filters_by_patient_actor_action_and_time(db):
    staff = await factories.make_staff()
    other = await factories.make_staff(email='other@example.org', name='Other Person')
    await audit.record('patient.chart_opened', audit.Actor.staff(staff), patient_id=1)
    await audit.record('patient.chart_opened', audit.Actor.staff(other), patient_id=1)
    await audit.record('rx.viewed', audit.Actor.patient(5), patient_id=1)
    await audit.record('patient.chart_opened', audit.Actor.staff(staff), patient_id=2)
    now = datetime.now(UTC)

    def actions(events: list[AuditEvent]) -> list[tuple[str, int | None]]:
        return sorted((e.action, e.actor_id) for e in events)

    assert len(await audit.trail(audit.TrailFilter(patient_id=1))) == 3
    mine = await audit.trail(audit.TrailFilter(patient_id=1, actor=f'staff:{staff.id}'))
    assert actions(mine) == [('patient.chart_opened', staff.id)]
    assert actions(await audit.trail(audit.TrailFilter(actor='patient'))) == [('rx.viewed', 5)]
    assert len(await audit.trail(audit.TrailFilter(action='patient.chart_opened'))) == 3
    assert len(await audit.trail(audit.TrailFilter(since=now - timedelta(minutes=5), until=now + timedelta(1)))) == 4
    assert await audit.trail(audit.TrailFilter(until=now - timedelta(minutes=5))) == []
    assert await audit.trail(audit.TrailFilter(actor='staff:x')) != []  # a malformed actor narrows nothing


def test_the_csv_quotes_cells_a_spreadsheet_would_run():
    event = AuditEvent(
        id=1, at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), action='staff.signed_in', actor_type='staff',
        actor_id=4, actor_label='=HYPERLINK("http://evil.example")', patient_id=None, object_type='',
        object_id=None, client_address='203.0.113.5', detail={'note': '+1'},
    )  # fmt: skip

    [header, row] = list(csv.reader(io.StringIO(audit.trail_csv([event]))))

    assert header == audit.CSV_HEADER
    assert row[0] == '2026-01-02T03:04:05+00:00'
    assert row[4] == '\'=HYPERLINK("http://evil.example")'


async def test_an_admin_sees_who_opened_a_chart_and_exports_it(user: User):
    patient = await factories.make_patient(first_name='Avery', last_name='Lindqvist')
    desk = await factories.make_staff(role='staff', email='desk@example.org', name='Sam Desk')
    await audit.chart_opened(patient.id, audit.Actor.staff(desk, '198.51.100.7'))
    await audit.chart_opened(patient.id + 1000, audit.Actor.staff(desk))  # another chart: not shown
    admin = await staff_sign_in(user)

    await open_profile(user, patient)
    user.find(marker='who-opened').click()

    await user.should_see(marker='audit-table', retries=100)
    table = user.find(marker='audit-table').elements.pop()
    assert isinstance(table, ui.table)
    opened = [r for r in table.rows if r['action'] == 'patient.chart_opened']
    assert {r['actor'] for r in opened} == {f'Sam Desk (staff #{desk.id})', f'Riley Front Desk (staff #{admin.id})'}
    assert {r['patient'] for r in table.rows} == {f'#{patient.id}'}

    response = await user.http_client.get(f'/staff/audit.csv?patient={patient.id}&actor=staff:{desk.id}')
    assert response.status_code == 200 and response.headers['cache-control'] == 'no-store'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r['action'], r['actor'], r['client']) for r in rows] == [
        ('patient.chart_opened', 'Sam Desk', '198.51.100.7')
    ]
    assert await AuditEvent.exists(action='audit.exported', actor_id=admin.id)


async def test_the_audit_page_and_export_are_for_administrators_only(user: User):
    front_desk = await factories.make_staff(role='staff')
    await user.open('/staff/login')
    user.find(kind=ui.input, content='Email').type(front_desk.email)
    user.find(kind=ui.input, content='Password').type(factories.STAFF_PASSWORD)
    user.find(kind=ui.button, content='Sign in').click()
    await user.should_see(f'{front_desk.name} (staff)', retries=100)

    await user.open('/staff/audit')
    await user.should_see('This page is for administrators')
    await user.should_not_see(marker='audit-table')
    response = await user.http_client.get('/staff/audit.csv')
    assert response.status_code == 403
