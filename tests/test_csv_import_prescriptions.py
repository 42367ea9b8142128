"""CSV import of prescriptions: a messy file, refused rows with their reasons, the original prescriber, signing
date and status kept, the signing rules followed, re-runs changing nothing, and no half-written Rx."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from models.api_client import ExternalIdentifier
from models.audit import AuditEvent
from models.csv_import import ImportJob, ImportRow, JobStatus, RowOutcome
from models.practice import Provider
from models.prescription import Prescription, PrescriptionEye, RxStatus
from models.staff import StaffUser
from services import events, prescriptions
from services.appointments import local_time
from services.csv_import import jobs, mapping
from services.csv_import.rows import Action
from tests import factories
from tests.portal_user import wait_until

NPI = '1234567893'
HEADER = (
    'Rx #;Chart #;Type;Purpose;Issue date;Signed;Expiry date;Doctor;NPI;Status;OD Sph;OD Cyl;OD Axis;OS Sph;OS Cyl;'
    'OS Axis;OD BC;OD Dia;OD Brand;OS BC;OS Dia;OS Brand;Expiry reason;Void reason'
)


def iso(day: date) -> str:
    return day.isoformat()


def us(day: date) -> str:
    return f'{day:%m/%d/%Y}'


def rx_file(rows: list[str], header: str = HEADER) -> bytes:
    """As an EHR export on Windows writes it: BOM, semicolons, CRLF."""
    return ('\r\n'.join([header, *rows]) + '\r\n').encode('utf-8-sig')


def messy_rows(issued: date, signed: date, old: date) -> list[str]:
    cl = ';8.6;14.2;AcmeDaily;8.6;14.2;AcmeDaily'
    no_cl = ';;;;;;'
    return [
        f'RX-1;1001;Glasses;Distance;{iso(issued)};{iso(signed)};;Dr. Dana Whitfield;;Final;-2.25;-0.75;90;-2.00;;'
        + no_cl
        + ';;',
        f'RX-2;1001;Contact lens;;{us(issued)};;{us(issued + timedelta(days=200))};Whitfield, Dana OD;;Current;'
        f'-2.50;;;-2.25;;{cl};dry eye follow-up;',
        f'RX-3;1001;Glasses;Distance;{iso(issued)};;;Dana Whitfield;;Final;+45.00;;;-2.00;;' + no_cl + ';;',
        f'RX-4;9999;Glasses;Distance;{iso(issued)};;;Dana Whitfield;;Final;-1.00;;;-1.00;;' + no_cl + ';;',
        f'RX-5;1002;Glasses;Near;{iso(issued)};;;Dr. Nobody;;Final;+1.00;;;+1.00;;' + no_cl + ';;',
        f'RX-6;1002;Glasses;Reading;{iso(old)};;;Dana Whitfield;;Replaced;+0.75;;;+0.75;;' + no_cl + ';;',
        f'RX-7;1002;Glasses;Near;{iso(issued)};;;;{NPI};Final;+1.25;;;+1.25;;' + no_cl + ';;',
        f'RX-8;1002;Contacts;;{iso(issued)};;{iso(issued + timedelta(days=100))};Dana Whitfield;;Final;-1.00;;;'
        f'-1.00;;{cl};;',
    ]


async def run_import(data: bytes, staff: StaffUser, file_name: str = 'rx.csv') -> ImportJob:
    upload = jobs.read_upload(file_name, data)
    guessed = mapping.guess('prescriptions', upload.table.headers)
    job = await jobs.start_import('prescriptions', upload, guessed, staff)
    assert await jobs.claim(job.id, 'test-worker')
    await jobs.run(job.id, 'test-worker')
    return await ImportJob.get(id=job.id)


@pytest.fixture
async def admin(db: object) -> StaffUser:
    await factories.make_ready_practice()
    await Provider.all().update(npi=NPI)
    await factories.make_patient(chart_number='1001', first_name='Jamie', last_name='Rivera')
    await factories.make_patient(chart_number='1002', first_name='Ana', last_name='Müller')
    return await factories.make_staff('admin')


async def test_messy_file_imports_good_rows_and_refuses_each_bad_one_with_its_reason(admin: StaffUser) -> None:
    issued, signed = factories.today() - timedelta(days=100), factories.today() - timedelta(days=99)
    data = rx_file(messy_rows(issued, signed, factories.today() - timedelta(days=800)))
    upload = jobs.read_upload('ehr-export.csv', data)
    guessed = mapping.guess('prescriptions', upload.table.headers)
    assert (guessed['rx_id'], guessed['prescriber'], guessed['od_sphere'], guessed['od_base_curve']) == (
        'Rx #',
        'Doctor',
        'OD Sph',
        'OD BC',
    )
    preview = await jobs.preview('prescriptions', upload, guessed)
    assert (preview.counts[Action.CREATE], preview.counts[Action.REFUSED]) == (4, 4)
    reasons = {r.row_number: r.reason for r in preview.rows if r.action == Action.REFUSED}
    assert 'sphere must be between -30.00 and +30.00' in reasons[4]
    assert 'No patient with chart number 9999' in reasons[5]
    assert 'No prescriber named "Dr. Nobody"' in reasons[6]
    assert 'needs the medical reason' in reasons[9]
    assert await Prescription.all().count() == 0  # a preview writes nothing

    job = await run_import(data, admin)
    assert (job.status, job.created, job.refused, job.next_row) == (JobStatus.DONE, 4, 4, 8)
    assert sorted(
        await ImportRow.filter(job_id=job.id, outcome=RowOutcome.REFUSED).values_list('row_number', flat=True)
    ) == [4, 5, 6, 9]
    provider = await Provider.get()
    glasses = await Prescription.get(patient__chart_number='1001', kind='spectacle').prefetch_related('eyes')
    assert (glasses.status, glasses.imported, glasses.provider_id, glasses.signed_by_id) == (
        RxStatus.FINAL,
        True,
        provider.id,
        None,
    )
    practice = await provider.practice
    assert local_time(glasses.signed_at, practice.time_zone).date() == signed  # the original signing date
    right = next(e for e in glasses.eyes if e.eye == 'OD')
    assert (right.sphere, right.cylinder, right.axis) == (Decimal('-2.25'), Decimal('-0.75'), 90)
    document = await prescriptions.document_for_staff(glasses.id)
    assert document.signature.endswith(prescriptions.long_date(signed))  # never "signed ... on <import date>"
    assert document.signature.startswith(f'Signed by {provider.display_name}')  # not "Electronically": maybe paper
    lenses = await Prescription.get(patient__chart_number='1001', kind='contact_lens')
    assert (lenses.expiry_date, lenses.expiry_reason) == (issued + timedelta(days=200), 'dry eye follow-up')
    near = await Prescription.filter(patient__chart_number='1002').order_by('issue_date')
    assert [(rx.status, rx.purpose) for rx in near] == [(RxStatus.SUPERSEDED, 'near'), (RxStatus.FINAL, 'near')]
    assert await ExternalIdentifier.filter(resource_type='VisionPrescription').count() == 4
    actions = await AuditEvent.filter(object_type='prescription').values_list('action', 'actor_type')
    assert actions.count(('rx.signed', 'import')) == 4
    assert actions.count(('rx.made_available', 'import')) == 4
    assert await mapping.remembered('prescriptions') == guessed  # the next file of this kind starts from it


async def test_the_downloadable_template_maps_itself_and_its_example_rows_import(admin: StaffUser) -> None:
    data = mapping.template_csv('prescriptions').encode('utf-8')
    upload = jobs.read_upload('template.csv', data)
    guessed = mapping.guess('prescriptions', upload.table.headers)
    assert guessed == {f.name: f.label for f in mapping.fields_of('prescriptions')}
    job = await run_import(data, admin)
    assert (job.created, job.refused) == (2, 0)
    lenses = await Prescription.get(kind='contact_lens').prefetch_related('eyes')
    assert lenses.status == RxStatus.FINAL and {e.brand for e in lenses.eyes} == {'AcmeDaily 1-Day'}


async def test_the_same_file_again_changes_nothing(admin: StaffUser) -> None:
    issued, signed = factories.today() - timedelta(days=100), factories.today() - timedelta(days=99)
    data = rx_file(messy_rows(issued, signed, factories.today() - timedelta(days=800)))
    await run_import(data, admin)
    before = (await Prescription.all().count(), await PrescriptionEye.all().count(), await AuditEvent.all().count())
    again = await run_import(data, admin)
    assert (again.created, again.updated, again.unchanged, again.refused) == (0, 0, 4, 4)
    after = (await Prescription.all().count(), await PrescriptionEye.all().count(), await AuditEvent.all().count())
    assert after[:2] == before[:2]
    assert after[2] == before[2] + 2  # only the job's own queued and finished rows


async def test_without_rx_ids_a_row_is_recognised_by_patient_kind_date_and_values(admin: StaffUser) -> None:
    header = 'Chart;Type;Purpose;Issue date;Prescriber;OD sphere;OS sphere'
    newer, older = factories.today() - timedelta(days=30), factories.today() - timedelta(days=400)
    console = await factories.make_spectacle_rx(
        await factories.make_patient(chart_number='1003'), issued=factories.today() - timedelta(days=700)
    )
    rows = [
        f'1003;glasses;distance;{iso(newer)};Dana Whitfield;-1.00;-1.25',
        f'1003;glasses;distance;{iso(older)};Dana Whitfield;-0.75;-1.00',  # older, listed after the newer one
    ]
    job = await run_import(rx_file(rows, header), admin)
    assert job.created == 2
    await console.refresh_from_db()
    current = await Prescription.get(patient__chart_number='1003', issue_date=newer)
    replaced = await Prescription.get(patient__chart_number='1003', issue_date=older)
    assert current.status == RxStatus.FINAL
    assert (replaced.status, replaced.superseded_by_id) == (RxStatus.SUPERSEDED, current.id)
    assert (console.status, console.superseded_by_id) == (RxStatus.SUPERSEDED, replaced.id)
    again = await run_import(rx_file(rows, header), admin)
    assert (again.created, again.unchanged) == (0, 2)
    assert await Prescription.filter(patient__chart_number='1003').count() == 3

    oldest = factories.today() - timedelta(days=900)  # final in the file, older than the current one on file
    late = await run_import(rx_file([f'1003;glasses;distance;{iso(oldest)};Dana Whitfield;-0.50;-0.50'], header), admin)
    assert late.created == 1
    recorded = await Prescription.get(patient__chart_number='1003', issue_date=oldest)
    assert (recorded.status, recorded.superseded_by_id) == (RxStatus.SUPERSEDED, current.id)
    [note] = await ImportRow.filter(job_id=late.id)
    assert note.outcome == RowOutcome.NOTE and note.reason.startswith('Recorded as replaced')
    assert (await Prescription.get(id=current.id)).status == RxStatus.FINAL


async def test_a_later_file_may_void_an_imported_rx_but_never_change_its_values(admin: StaffUser) -> None:
    header = 'Rx id;Chart;Type;Purpose;Issue date;Prescriber;Status;Void reason;OD sphere;OS sphere'
    issued = factories.today() - timedelta(days=60)
    await run_import(
        rx_file([f'A-1;1001;glasses;distance;{iso(issued)};Dana Whitfield;final;;-1.00;-1.00'], header), admin
    )
    changed = await run_import(
        rx_file([f'A-1;1001;glasses;distance;{iso(issued)};Dana Whitfield;final;;-3.00;-1.00'], header), admin
    )
    assert changed.refused == 1
    [row] = await ImportRow.filter(job_id=changed.id)
    assert 'imported before (Rx id A-1) with other values' in row.reason
    voided = await run_import(
        rx_file([f'A-1;1001;glasses;distance;{iso(issued)};Dana Whitfield;void;wrong patient;-1.00;-1.00'], header),
        admin,
    )
    assert voided.updated == 1
    rx = await Prescription.get(patient__chart_number='1001')
    assert (rx.status, rx.void_reason) == (RxStatus.VOID, 'wrong patient')


async def test_imported_final_rx_reaches_the_patients_open_portal_after_commit(admin: StaffUser) -> None:
    patient = await factories.make_patient(chart_number='1004')
    await factories.give_consent(patient)
    heard: list[str] = []

    async def listen(event: events.Event) -> None:
        heard.append(event.topic)

    unsubscribe = events.subscribe(patient.id, listen)
    header = 'Chart;Type;Purpose;Issue date;Prescriber;OD sphere;OS sphere'
    await run_import(
        rx_file([f'1004;glasses;distance;{iso(factories.today())};Dana Whitfield;-1.00;-1.00'], header), admin
    )

    async def told() -> bool:
        return events.PRESCRIPTIONS in heard

    await wait_until(told)
    unsubscribe()
    [rx] = await prescriptions.prescriptions_for(patient.id)
    assert rx.imported and rx.status == RxStatus.FINAL
    assert (await AuditEvent.get(action='rx.made_available', object_id=rx.id)).detail['portal'] is True


async def test_a_crash_while_writing_leaves_no_half_written_rx(
    admin: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError('disk full')

    monkeypatch.setattr(PrescriptionEye, 'bulk_create', disk_full)
    header = 'Chart;Type;Purpose;Issue date;Prescriber;OD sphere;OS sphere'
    issued = iso(factories.today() - timedelta(days=5))
    rows = [
        f'1001;glasses;distance;{issued};Dana Whitfield;-1.00;-1.00',
        f'1002;glasses;near;{issued};Dana Whitfield;+1.00;+1.00',
    ]
    job = await run_import(rx_file(rows, header), admin)
    assert (job.status, job.created, job.refused) == (JobStatus.DONE, 0, 2)
    assert await Prescription.all().count() == 0  # the Rx rows went back with their eyes
    assert not await AuditEvent.filter(object_type='prescription').exists()
