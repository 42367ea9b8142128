"""CSV import of patients: messy real-world files, matching, re-runs, the portal's login email, and the job."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from models.audit import AuditEvent
from models.csv_import import ImportJob, ImportRow, JobStatus, RowOutcome
from models.patient import Patient
from models.portal_account import PortalAccount
from services import audit
from services.csv_import import jobs, mapping
from services.csv_import import patients as patient_rows
from services.csv_import.patients import Action
from services.email_upkeep import Problem, email_upkeep
from services.portal_access import enable_portal
from tests.factories import make_active_patient, make_patient, make_ready_practice, make_staff

HEADER = 'Chart #,First Name,Last Name,DOB,E-mail,Mobile,Address'
MESSY_ROWS = [
    '1001,Jamie,Rivera,1985-04-12,jamie@example.com,(207) 555-0134,"12 Harbor St, Apt 2"',
    '1002,Ana,Müller,04/30/1990,ana@example.com,207-555-0188,',
    '1003,Broken,Email,1970-01-01,not-an-email,,',
    '1004,Lee,"O\'Neil, Jr",1999-12-31,,,"4 Elm Rd, Portland"',
]


def messy_file(rows: list[str] = MESSY_ROWS, *, header: str = HEADER, encoding: str = 'utf-8-sig') -> bytes:
    return ('\r\n'.join([header, *rows]) + '\r\n').encode(encoding)


async def run_import(data: bytes, staff: object, file_name: str = 'patients.csv') -> ImportJob:
    upload = jobs.read_upload(file_name, data)
    guessed = mapping.guess('patients', upload.table.headers)
    job = await jobs.start_import('patients', upload, guessed, staff)
    assert await jobs.claim(job.id, 'test-worker')
    await jobs.run(job.id, 'test-worker')
    return await ImportJob.get(id=job.id)


@pytest.fixture
async def admin(db: object) -> object:
    await make_ready_practice()
    return await make_staff('admin')


async def test_messy_file_is_read_and_a_bad_row_in_the_middle_is_refused_alone(admin: object) -> None:
    upload = jobs.read_upload('export.csv', messy_file())
    assert upload.table.headers[0] == 'Chart #'
    guessed = mapping.guess('patients', upload.table.headers)
    assert guessed == {
        'chart_number': 'Chart #',
        'first_name': 'First Name',
        'last_name': 'Last Name',
        'date_of_birth': 'DOB',
        'email': 'E-mail',
        'phone': 'Mobile',
        'address': 'Address',
    }
    preview = await jobs.preview('patients', upload, guessed)
    assert preview.counts[Action.CREATE] == 3 and preview.counts[Action.REFUSED] == 1
    refused = preview.rows[0]
    assert (refused.row_number, refused.action) == (4, Action.REFUSED)
    assert 'not a valid email address' in refused.reason
    assert await Patient.all().count() == 0  # a preview writes nothing

    job = await run_import(messy_file(), admin)
    assert (job.status, job.created, job.refused, job.next_row) == (JobStatus.DONE, 3, 1, 4)
    jamie = await Patient.get(chart_number='1001')
    assert (jamie.address, jamie.phone) == ('12 Harbor St, Apt 2', '(207) 555-0134')
    assert jamie.imported_at is not None
    assert (await Patient.get(chart_number='1004')).last_name == "O'Neil, Jr"
    assert (await Patient.get(chart_number='1002')).last_name == 'Müller'
    [row] = await ImportRow.filter(job_id=job.id)
    assert (row.row_number, row.outcome) == (4, RowOutcome.REFUSED)
    audited = await AuditEvent.filter(action='patient.imported').values_list('patient_id', 'actor_type')
    assert sorted(audited) == sorted((p.id, 'import') for p in await Patient.all())
    assert await PortalAccount.all().count() == 0  # importing never enables a portal


async def test_windows_1252_file_with_semicolons_and_unix_line_ends(admin: object) -> None:
    data = 'Chart;First;Last;Birth date;Email\n2001;Zoë;Müller;12/01/1960;zoe@example.com\n'.encode('cp1252')
    job = await run_import(data, admin)
    assert job.created == 1
    patient = await Patient.get(chart_number='2001')
    assert (patient.first_name, patient.last_name, patient.search_name) == ('Zoë', 'Müller', 'zoe muller')


async def test_refusals_say_why_in_plain_words(admin: object) -> None:
    rows = [
        '3001,Amy,Bad Phone,1980-01-01,,12,',
        '3002,Bo,Bad Date,31/31/1980,,,',
        '3003,Cy,First,1980-01-01,,,',
        '3003,Cy,Again,1980-01-01,,,',
    ]
    upload = jobs.read_upload('x.csv', messy_file(rows))
    preview = await jobs.preview('patients', upload, mapping.guess('patients', upload.table.headers))
    reasons = {r.row_number: r.reason for r in preview.rows if r.action == Action.REFUSED}
    assert 'not a valid phone number' in reasons[2]
    assert 'not a date' in reasons[3]
    assert reasons[5] == 'Duplicate in the file: the same chart number as row 4.'
    assert set(reasons) == {2, 3, 5}


async def test_importing_the_same_file_again_changes_nothing(admin: object) -> None:
    await run_import(messy_file(), admin)
    before = await AuditEvent.all().count()
    job = await run_import(messy_file(), admin)
    assert (job.created, job.updated, job.unchanged, job.refused) == (0, 0, 3, 1)
    assert await Patient.all().count() == 3
    assert await AuditEvent.filter(action__startswith='patient.').count() == 3
    assert await AuditEvent.all().count() == before + 2  # only the job's own queued and finished rows


async def test_an_updated_file_updates_only_what_changed_and_blank_cells_keep_the_record(admin: object) -> None:
    await run_import(messy_file(), admin)
    changed = [
        '1001,Jamie,Rivera,1985-04-12,JAMIE@example.com,207.555.0134,"9 New Rd, Portland"',  # new address only
        '1002,Ana,Müller,04/30/1990,,,',  # blanks: keep email and phone
    ]
    job = await run_import(messy_file(changed), admin)
    assert (job.updated, job.unchanged) == (1, 1)
    jamie = await Patient.get(chart_number='1001')
    assert (jamie.address, jamie.email, jamie.phone) == ('9 New Rd, Portland', 'jamie@example.com', '(207) 555-0134')
    ana = await Patient.get(chart_number='1002')
    assert (ana.email, ana.phone) == ('ana@example.com', '(207) 555-0188')
    [audit_row] = await AuditEvent.filter(action='patient.updated')
    assert audit_row.detail['fields'] == ['address'] and audit_row.patient_id == jamie.id


async def test_active_portal_login_email_is_never_changed_only_reported(admin: object) -> None:
    patient = await make_active_patient(
        staff=admin, chart_number='5001', first_name='Pat', last_name='Active', email='pat@example.com'
    )
    data = messy_file(['5001,Pat,Active,1985-04-12,pat.new@example.com,(207) 555-0199,'])
    job = await run_import(data, admin)
    assert job.updated == 1
    await patient.refresh_from_db()
    assert (patient.email, patient.phone) == ('pat@example.com', '(207) 555-0199')
    [note] = await ImportRow.filter(job_id=job.id)
    assert note.outcome == RowOutcome.NOTE and note.patient_id == patient.id
    assert 'pat.new@example.com' in note.reason and 'portal is active' in note.reason


async def test_match_by_name_and_birth_date_and_an_ambiguous_row_is_held_until_resolved(admin: object) -> None:
    lone = await make_patient(first_name='Lone', last_name='Match', chart_number='')
    twin_a = await make_patient(first_name='Sam', last_name='Twin', chart_number='')
    twin_b = await make_patient(first_name='Sam', last_name='Twin', chart_number='')
    data = messy_file(['6001,Lone,Match,1985-04-12,,,', '6002,Sam,Twin,1985-04-12,sam@example.com,,'])
    job = await run_import(data, admin)
    assert (job.updated, job.held, job.created) == (1, 1, 0)
    await lone.refresh_from_db()
    assert lone.chart_number == '6001'
    again = await run_import(data, admin)  # before anyone resolved it: still held, listed once
    assert (again.held, again.unchanged) == (1, 1)
    [held] = await jobs.held_for_review()
    assert sorted(held.candidates) == sorted([twin_a.id, twin_b.id]) and '2 patients' in held.reason
    assert [p.id for p in await jobs.candidates(held)] == sorted([twin_a.id, twin_b.id])

    actor = jobs.import_actor(admin)
    resolved = await jobs.resolve_held(held.id, twin_b.id, admin, actor)
    assert (resolved.id, resolved.chart_number, resolved.email) == (twin_b.id, '6002', 'sam@example.com')
    assert await jobs.held_for_review() == []
    # The same file again: the chart number now matches, nothing is held.
    third = await run_import(data, admin)
    assert (third.held, third.unchanged) == (0, 2)


async def test_a_held_row_can_become_a_new_patient(admin: object) -> None:
    await make_patient(first_name='Kim', last_name='Park', chart_number='777')
    job = await run_import(messy_file(['7001,Kim,Park,1985-04-12,,,']), admin)
    assert job.held == 1  # same name and birth date, another chart number
    [held] = await jobs.held_for_review()
    created = await jobs.resolve_held(held.id, None, admin, jobs.import_actor(admin))
    assert created.chart_number == '7001' and await Patient.filter(last_name='Park').count() == 2


async def test_two_instances_claiming_at_once_run_the_job_once(admin: object) -> None:
    upload = jobs.read_upload('p.csv', messy_file())
    job = await jobs.start_import('patients', upload, mapping.guess('patients', upload.table.headers), admin)
    results = await asyncio.gather(*(jobs.claim(job.id, f'worker-{n}') for n in range(4)))
    assert sorted(results) == [False, False, False, True]
    assert await jobs.claim(job.id, 'late') is False  # a live job is not taken over


async def test_a_crash_mid_chunk_leaves_no_half_written_patient_and_the_job_resumes(
    admin: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, 'CHUNK_ROWS', 2)
    rows = [f'{8000 + n},Pat{n},Chunk,1980-01-0{n + 1},,,' for n in range(5)]
    upload = jobs.read_upload('p.csv', messy_file(rows))
    job = await jobs.start_import('patients', upload, mapping.guess('patients', upload.table.headers), admin)
    assert await jobs.claim(job.id, 'doomed')

    real_bulk_create = AuditEvent.bulk_create
    calls = 0

    async def die_on_second_chunk(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 2:  # the patients of chunk two are inserted; the process dies before their audit rows
            raise asyncio.CancelledError
        return await real_bulk_create(*args, **kwargs)

    monkeypatch.setattr(AuditEvent, 'bulk_create', die_on_second_chunk)
    with pytest.raises(asyncio.CancelledError):
        await jobs.run(job.id, 'doomed')
    monkeypatch.setattr(AuditEvent, 'bulk_create', real_bulk_create)
    stalled = await ImportJob.get(id=job.id)
    assert (stalled.status, stalled.next_row, stalled.created) == (JobStatus.RUNNING, 2, 2)
    assert await Patient.all().count() == 2  # chunk two rolled back whole

    assert await jobs.claim(job.id, 'rescuer') is False  # its heartbeat is still fresh
    assert not jobs.interrupted(stalled)
    await ImportJob.filter(id=job.id).update(heartbeat_at=stalled.heartbeat_at - jobs.STALE_AFTER * 2)
    assert jobs.interrupted(await jobs.get_job(job.id))  # what the import page says
    assert await jobs.run_pending('rescuer') == 1
    done = await ImportJob.get(id=job.id)
    assert (done.status, done.created, done.worker) == (JobStatus.DONE, 5, 'rescuer')
    assert await Patient.all().count() == 5
    assert await AuditEvent.filter(action='patient.imported').count() == 5


async def test_mapping_is_remembered_per_kind_and_the_template_reads_back(admin: object) -> None:
    data = messy_file(['9001,Al,Map,1980-01-01,al@example.com,,'], header='ID,Given,Family,Born,Mail,Tel,Street')
    upload = jobs.read_upload('odd.csv', data)
    chosen = {'chart_number': 'ID', 'first_name': 'Given', 'last_name': 'Family', 'date_of_birth': 'Born'}
    with pytest.raises(mapping.MappingInvalid, match='Date of birth'):
        await jobs.start_import('patients', upload, {**chosen, 'date_of_birth': ''}, admin)
    await jobs.start_import('patients', upload, chosen, admin)
    assert 'first_name' not in mapping.guess('patients', upload.table.headers)  # 'Given' is no known heading
    remembered = mapping.guess('patients', upload.table.headers, await mapping.remembered('patients'))
    assert chosen.items() <= remembered.items()

    template = jobs.read_upload('template.csv', mapping.template_csv('patients').encode('utf-8'))
    guessed = mapping.guess('patients', template.table.headers)
    assert len(guessed) == 7
    preview = await jobs.preview('patients', template, guessed)
    assert preview.counts[Action.CREATE] == 2 and preview.counts[Action.REFUSED] == 0


async def test_imported_patients_without_a_usable_address_are_on_the_email_upkeep_list(admin: object) -> None:
    await make_patient(first_name='Old', last_name='Shared', email='family@example.com')
    rows = ['9101,No,Mail,1980-01-01,,,', '9102,Kid,Shared,2015-01-01,family@example.com,,']
    await run_import(messy_file(rows), admin)
    problems = {(row.name, row.problem) for row in (await email_upkeep()).rows}
    assert ('Mail, No', Problem.MISSING) in problems
    assert ('Shared, Kid', Problem.SHARED) in problems


async def test_two_rows_of_one_chunk_that_could_be_one_patient_create_one_and_hold_the_other(admin: object) -> None:
    rows = ['9201,Sam,Dup,1980-01-01,,,', ',Sam,Dup,1980-01-01,sam@example.com,,']
    job = await run_import(messy_file(rows), admin)
    assert (job.created, job.held) == (1, 1)
    created = await Patient.get(chart_number='9201')
    [held] = await jobs.held_for_review()
    assert (held.row_number, held.candidates) == (3, [created.id]) and 'Row 2 of this file' in held.reason
    again = await run_import(messy_file(rows), admin)
    assert (again.created, again.unchanged, again.updated) == (0, 1, 1)  # the chart-less row now matches
    assert await Patient.filter(last_name='Dup').count() == 1


async def test_a_kind_without_a_module_in_the_registry_is_refused_with_a_sentence(
    admin: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.csv_import import kinds

    monkeypatch.setattr(kinds, 'REGISTRY', {})
    upload = jobs.read_upload('export.csv', messy_file())
    with pytest.raises(kinds.KindNotAvailable, match='Importing patients is not available yet.'):
        await jobs.preview('patients', upload, {'first_name': 'First Name'})
    assert await ImportJob.all().count() == 0


def meanwhile(monkeypatch: pytest.MonkeyPatch, write: object) -> None:
    """`write` runs once, after the first chunk is planned and before its transaction (a staff member at work)."""
    real_plan = patient_rows.plan
    pending = [write]

    async def plan_then_write(prepared: list) -> list:
        plans = await real_plan(prepared)
        if pending:
            await pending.pop()()  # type: ignore[operator]
        return plans

    monkeypatch.setattr(patient_rows, 'plan', plan_then_write)


async def test_a_patient_added_while_a_chunk_is_planned_is_matched_not_duplicated(
    admin: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def add_jamie() -> None:
        await make_patient(chart_number='1001', first_name='Jamie', last_name='Rivera', date_of_birth=date(1985, 4, 12))

    meanwhile(monkeypatch, add_jamie)
    job = await run_import(messy_file(), admin)
    assert (job.created, job.updated, job.refused) == (2, 1, 1)
    jamie = await Patient.get(chart_number='1001')  # one patient: the plan made before it was added is not used
    assert jamie.address == '12 Harbor St, Apt 2'


async def test_a_portal_enabled_while_a_chunk_is_planned_keeps_its_login_email(
    admin: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = await make_patient(chart_number='5001', first_name='Pat', last_name='Active', email='pat@example.com')
    edited_long_ago = datetime.now(UTC) - timedelta(hours=1)
    await Patient.filter(id=patient.id).update(updated_at=edited_long_ago)  # only the portal changes meanwhile

    async def enable() -> None:
        await enable_portal(patient.id, admin, audit.Actor('staff', admin.id, admin.name))  # type: ignore[attr-defined]

    meanwhile(monkeypatch, enable)
    job = await run_import(messy_file(['5001,Pat,Active,1985-04-12,pat.new@example.com,(207) 555-0199,']), admin)
    assert job.updated == 1
    await patient.refresh_from_db()
    assert (patient.email, patient.phone) == ('pat@example.com', '(207) 555-0199')
    [note] = await ImportRow.filter(job_id=job.id)
    assert 'portal is active' in note.reason
