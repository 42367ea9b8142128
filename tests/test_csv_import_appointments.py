"""CSV import of appointments: a messy schedule export, the practice's clock, no emails, and re-runs."""

from datetime import UTC, datetime, timedelta

import pytest

from models.appointment import Appointment, AppointmentStatus, VisitType
from models.audit import AuditEvent
from models.outbox import OutboxMessage
from models.patient import Patient
from models.practice import Provider
from services import appointments, events, reminders
from services.appointments import format_clock
from services.csv_import import appointments as csv_appointments
from services.csv_import import jobs, mapping
from services.csv_import.rows import Action
from tests import factories
from tests.csv_import_runs import run_kind
from tests.factories import make_patient, make_ready_practice, make_staff

HEADER = 'Chart #,Appt Date,Start Time,Duration,Provider,Location,Type,Notes,Status,Appt ID'


def schedule(*rows: str, header: str = HEADER) -> bytes:
    """As a Windows system exports it: UTF-8 with a BOM, CRLF line ends."""
    return ('\r\n'.join([header, *rows]) + '\r\n').encode('utf-8-sig')


def ahead(days: int) -> str:
    return (factories.today() + timedelta(days=days)).isoformat()


@pytest.fixture
async def admin(db: object) -> object:
    practice = await make_ready_practice()
    await Provider.filter(practice_id=practice.id).update(npi='1234567893')
    await factories.make_location(practice, name='North Clinic')
    await make_patient(chart_number='1001', first_name='Jamie', last_name='Rivera', email='jamie@example.com')
    await make_patient(chart_number='1002', first_name='Ana', last_name='Müller', email='ana@example.com')
    return await make_staff('admin')


async def test_a_messy_schedule_imports_in_the_practices_time_and_a_bad_row_is_refused_alone(admin: object) -> None:
    data = schedule(
        '1001,2024-07-09,9:30 AM,60,Dana Whitfield,Main office,Eye exam,"Annual exam, dilated",completed,A-1',
        '9999,2024-07-09,10:30,30,Dana Whitfield,Main office,Eye exam,,completed,A-2',
        '1002,01/14/2025,14:00,45,1234567893,north clinic,Contact lens fitting,,no show,A-3',
        '1001,2024-13-01,9:00,30,Dana Whitfield,Main office,,,booked,A-4',
        '1001,2024-07-10,9:00,30,Dr. Nobody,Main office,,,booked,A-5',
        '1001,2024-07-10,9:00,30,Dana Whitfield,Annex,,,booked,A-6',
        f'1002,{ahead(20)},8:15 AM,30,"Whitfield, Dana",Main office,Pressure check,,Scheduled,A-7',
    )
    plans, job = await run_kind('appointments', data, admin)
    by_row = {p.row_number: p for p in plans}
    assert [by_row[n].action for n in range(2, 9)] == [
        Action.CREATE, Action.REFUSED, Action.CREATE, Action.REFUSED, Action.REFUSED, Action.REFUSED, Action.CREATE,
    ]  # fmt: skip
    assert (
        by_row[3].reason
        == 'No patient with chart number 9999 is on file. Import the patients first, or correct the chart number.'
    )
    assert '"2024-13-01" is not a date' in by_row[5].reason
    assert 'No provider "Dr. Nobody"' in by_row[6].reason
    assert 'No location is called "Annex"' in by_row[7].reason
    assert by_row[8].appointment.provider_id == by_row[2].appointment.provider_id  # "Whitfield, Dana"

    summer = await Appointment.get(reason='Annual exam, dilated').select_related('location')
    assert summer.starts_at == datetime(2024, 7, 9, 13, 30, tzinfo=UTC)  # 9:30 EDT
    assert (summer.status, summer.visit_type, summer.duration_minutes) == (
        AppointmentStatus.COMPLETED, VisitType.EYE_EXAM, 60,
    )  # fmt: skip
    winter = await Appointment.get(status=AppointmentStatus.NO_SHOW).select_related('location')
    assert winter.starts_at == datetime(2025, 1, 14, 19, 0, tzinfo=UTC)  # 14:00 EST
    assert (winter.location.name, winter.visit_type) == ('North Clinic', VisitType.CONTACT_LENS_FITTING)
    audited = await AuditEvent.filter(action='appointment.imported').values_list('actor_type', 'object_id')
    assert sorted(audited) == sorted(('import', a.id) for a in await Appointment.all())


async def test_importing_sends_no_email_and_only_future_booked_visits_get_their_normal_reminder(admin: object) -> None:
    heard: list[events.Event] = []
    jamie = await Patient.get(chart_number='1001')

    async def hear(event: events.Event) -> None:
        heard.append(event)

    unsubscribe = events.subscribe(jamie.id, hear)
    tomorrow = ahead(1)
    data = schedule(
        '1001,2024-07-09,9:30,60,Dana Whitfield,Main office,Eye exam,,booked,P-1',
        f'1001,{tomorrow},9:30,60,Dana Whitfield,Main office,Eye exam,,booked,F-1',
        f'1001,{ahead(40)},9:30,60,Dana Whitfield,Main office,Eye exam,,booked,F-2',
        f'1001,{ahead(41)},9:30,60,Dana Whitfield,Main office,Eye exam,,cancelled,F-3',
    )
    await run_kind('appointments', data, admin)
    unsubscribe()
    assert await OutboxMessage.all().count() == 0  # no confirmation, no cancellation notice
    past, soon, later, cancelled = await Appointment.all().order_by('starts_at')
    assert past.reminder_for == past.starts_at and cancelled.reminder_for == cancelled.starts_at  # never reminded
    assert soon.reminder_for is None and later.reminder_for is None  # the reminder rule decides
    assert cancelled.cancel_reason == "Cancelled in the practice's previous system."
    # the patient's Appointments tab: booked future visits ahead, the past and the cancelled one below
    assert [a.id for a in await appointments.upcoming_for(jamie.id)] == [soon.id, later.id]
    assert [a.id for a in await appointments.earlier_for(jamie.id)] == [cancelled.id, past.id]

    queued = await reminders.queue_due(datetime.now(UTC))
    reminded = await OutboxMessage.filter(id__in=queued).values_list('purpose', 'patient_id')
    assert reminded == [('reminder', jamie.id)]  # tomorrow's visit only: inside the 48-hour lead time
    assert any(e.topic == events.APPOINTMENTS for e in heard)  # an open Appointments tab refreshes


async def test_the_same_file_twice_changes_nothing_and_an_updated_file_moves_only_what_changed(admin: object) -> None:
    rows = [
        f'1001,{ahead(30)},9:30,60,Dana Whitfield,Main office,Eye exam,,booked,B-1',
        f'1002,{ahead(31)},10:00,30,Dana Whitfield,Main office,Follow-up,,booked,B-2',
        '1002,2024-02-01,10:00,30,Dana Whitfield,Main office,Follow-up,,completed,B-3',
    ]
    await run_kind('appointments', schedule(*rows), admin)
    audit_rows = await AuditEvent.filter(object_type='appointment').count()
    plans, _ = await run_kind('appointments', schedule(*rows), admin)
    assert [p.action for p in plans] == [Action.UNCHANGED] * 3
    assert await Appointment.all().count() == 3
    assert await AuditEvent.filter(object_type='appointment').count() == audit_rows

    moved = rows[0].replace('9:30', '11:00')
    closed = rows[2].replace('completed', 'no show')
    plans, _ = await run_kind('appointments', schedule(moved, rows[1], closed), admin)
    assert [(p.action, p.changed) for p in plans[:2]] == [(Action.UPDATE, ['starts_at']), (Action.UNCHANGED, [])]
    assert plans[2].action == Action.REFUSED and 'history' in plans[2].reason
    visit = await Appointment.get(id=plans[0].appointment.id)
    assert format_clock(visit.starts_at, factories.PRACTICE_ZONE) == '11:00 AM'
    assert await Appointment.all().count() == 3


async def test_rows_without_an_id_match_by_patient_and_start(admin: object) -> None:
    header = 'Chart,Start,End,Provider,Office,Status'
    rows = [f'1001,{ahead(12)} 15:00,15:40,Dana Whitfield,Main Office,booked']
    plans, _ = await run_kind('appointments', schedule(rows[0].replace('Main Office', ''), header=header), admin)
    assert plans[0].reason == "The location is missing: give the name of one of the practice's locations."
    await run_kind('appointments', schedule(*rows, header=header), admin)
    plans, _ = await run_kind('appointments', schedule(*rows, header=header), admin)
    assert [p.action for p in plans] == [Action.UNCHANGED]
    assert (await Appointment.get()).duration_minutes == 40
    plans, _ = await run_kind('appointments', schedule(*rows, *rows, header=header), admin)
    assert plans[1].action == Action.REFUSED and plans[1].reason.startswith('Duplicate in the file')


async def test_an_overlap_is_imported_and_noted_and_a_skipped_clock_time_is_refused(admin: object) -> None:
    day = ahead(15)
    await run_kind(
        'appointments', schedule(f'1001,{day},9:00,60,Dana Whitfield,Main office,Eye exam,,booked,C-1'), admin
    )
    data = schedule(
        f'1002,{day},9:30,30,Dana Whitfield,Main office,Follow-up,,booked,C-2',
        '1002,2031-03-09,2:30 AM,30,Dana Whitfield,Main office,Follow-up,,booked,C-3',
    )
    plans, _ = await run_kind('appointments', data, admin)
    assert plans[0].action == Action.CREATE
    assert plans[0].reason == (
        'Imported as booked in the previous system, though the provider also has Jamie Rivera 9:00 AM–10:00 AM then.'
    )
    assert plans[1].action == Action.REFUSED and 'does not exist on March 9' in plans[1].reason
    assert await Appointment.filter(provider__name='Dana Whitfield').count() == 2

    same_file = schedule(
        f'1001,{ahead(16)},9:00,60,Dana Whitfield,Main office,Eye exam,,booked,D-1',
        f'1002,{ahead(16)},9:45,30,Dana Whitfield,Main office,Follow-up,,booked,D-2',
    )
    plans, job = await run_kind('appointments', same_file, admin)
    assert plans[1].reason.endswith('the provider also has Rivera, Jamie 9:00 AM–10:00 AM (row 2) then.')
    assert job.created == 2  # noted, not refused


async def test_the_downloadable_template_imports_as_it_is(admin: object) -> None:
    data = mapping.template_csv('appointments').encode()
    upload = jobs.read_upload('template.csv', data)
    assert set(mapping.guess('appointments', upload.table.headers)) == {f.name for f in csv_appointments.FIELDS}
    plans, job = await run_kind('appointments', data, admin)
    assert [p.action for p in plans] == [Action.CREATE] * 3 and job.refused == 0
    fitting = await Appointment.get(visit_type=VisitType.CONTACT_LENS_FITTING)
    assert fitting.duration_minutes == 45  # from 14:00 to 14:45
