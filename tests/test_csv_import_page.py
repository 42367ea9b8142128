"""The import page: upload, mapped columns, preview with a refused row, import with live result, review."""

import asyncio
import sys
from datetime import timedelta

import pytest
from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from models.csv_import import ImportJob, JobStatus
from models.patient import Patient
from models.prescription import Prescription, RxStatus
from services import billing, events
from services.csv_import import jobs
from tests import factories
from tests.csv_import_runs import run_kind
from tests.portal_user import wait_until
from tests.test_staff_console import staff_sign_in

FILE = (
    '\ufeffChart #;First Name;Last Name;DOB;E-mail;Mobile\r\n'
    '4101;Ana;Müller;04/30/1990;ana@example.com;207-555-0188\r\n'
    '4102;Bad;Mail;1970-01-01;not-an-email;\r\n'
    '4103;Sam;Twin;1985-04-12;sam@example.com;\r\n'
).encode()


async def upload(user: User, data: bytes, name: str = 'patients.csv') -> None:
    element = user.find(marker='import-upload').elements.pop()
    assert isinstance(element, ui.upload)
    await element.handle_uploads([SmallFileUpload(name, 'text/csv', data)])


async def test_admin_previews_imports_and_resolves_a_held_row(user: User) -> None:
    await factories.make_ready_practice()
    twin_a = await factories.make_patient(first_name='Sam', last_name='Twin', chart_number='')
    await factories.make_patient(first_name='Sam', last_name='Twin', chart_number='')
    await staff_sign_in(user)
    await user.open('/staff/import')
    await user.should_see('Import records')
    response = await user.http_client.get('/staff/import/template-patients.csv')
    assert response.status_code == 200 and 'Chart number,First name' in response.text

    await upload(user, FILE)
    await user.should_see('patients.csv: 3 rows')
    assert user.find(marker='column-date_of_birth').elements.pop().value == 'DOB'
    user.find(marker='import-preview').click()
    await user.should_see('Refused: 1', retries=50)
    table = user.find(marker='preview-table').elements.pop()
    assert [(r['row'], r['action']) for r in table.rows] == [(3, 'Refused'), (4, 'Held for review'), (2, 'New patient')]
    assert 'not a valid email address' in table.rows[0]['reason']
    assert await Patient.filter(chart_number='4101').count() == 0  # the preview wrote nothing

    user.find(marker='import-start').click()
    await wait_until(lambda: ImportJob.exists(status=JobStatus.DONE), timeout=20)
    await jobs.wait_for_background()
    await user.should_see('New: 1', retries=100)  # the open page follows the job
    await user.should_see('Refused: 1')
    ana = await Patient.get(chart_number='4101')
    assert ana.last_name == 'Müller'

    [held] = await jobs.held_for_review()
    await user.should_see(f'Row {held.row_number}: Sam Twin')
    user.find(marker=f'resolve-{held.id}-{twin_a.id}').click()
    await user.should_see('saved to Sam Twin', retries=50)
    await twin_a.refresh_from_db()
    assert twin_a.chart_number == '4103'

    await user.open('/staff?q=M%C3%BCller')  # the imported patient is found by search
    await user.should_see('Müller, Ana')


async def test_front_desk_staff_cannot_open_the_import(user: User) -> None:
    await factories.make_ready_practice()
    staff = await factories.make_staff('staff', name='Riley Front Desk')
    await user.open('/staff/login')
    user.find(kind=ui.input, content='Email').type(staff.email)
    user.find(kind=ui.input, content='Password').type(factories.STAFF_PASSWORD)
    user.find(kind=ui.button, content='Sign in').click()
    await user.should_see('Riley Front Desk (staff)', retries=100)
    await user.open('/staff/import')
    await user.should_see('This page is for administrators')
    assert (await user.http_client.get('/staff/import/template-patients.csv')).status_code == 403


async def test_admin_imports_prescriptions_with_a_refused_row(user: User) -> None:
    await factories.make_ready_practice()
    await factories.make_patient(first_name='Jamie', last_name='Rivera', chart_number='5001')
    await staff_sign_in(user)
    await user.open('/staff/import')
    user.find(marker='import-kind').click()
    user.find('Prescriptions').click()
    template = '/staff/import/template-prescriptions.csv'

    async def offers_the_prescriptions_template() -> bool:
        return any(link.props.get('href') == template for link in user.find(marker='import-template').elements)

    await wait_until(offers_the_prescriptions_template)
    response = await user.http_client.get(template)
    assert response.status_code == 200 and 'Rx id,Chart number,Type' in response.text

    issued = (factories.today() - timedelta(days=20)).isoformat()
    data = (
        '\ufeffRx id;Chart #;Type;Purpose;Issue date;Prescriber;OD Sph;OS Sph\r\n'
        f'R-1;5001;Glasses;Distance;{issued};Dana Whitfield;-1.25;-1.50\r\n'
        f'R-2;5999;Glasses;Distance;{issued};Dana Whitfield;-1.25;-1.50\r\n'
    ).encode()
    await upload(user, data, 'rx.csv')
    await user.should_see('rx.csv: 2 rows')
    assert user.find(marker='column-od_sphere').elements.pop().value == 'OD Sph'
    user.find(marker='import-preview').click()
    await user.should_see('Refused: 1', retries=50)
    table = user.find(marker='preview-table').elements.pop()
    assert [(r['row'], r['action']) for r in table.rows] == [(3, 'Refused'), (2, 'New prescription')]
    assert 'No patient with chart number 5999' in table.rows[0]['reason']

    user.find(marker='import-start').click()
    await wait_until(lambda: ImportJob.exists(status=JobStatus.DONE), timeout=20)
    await jobs.wait_for_background()
    await user.should_see('New: 1', retries=100)
    rx = await Prescription.get(patient__chart_number='5001')
    assert rx.imported and rx.status == RxStatus.FINAL


INVOICES = (
    '\ufeffChart #,Invoice #,Date,Description,Qty,Price,Paid,Status\r\n'
    '5101,A-1,2025-01-15,Comprehensive eye exam,1,$150.00,$150.00,paid\r\n'
    '5999,A-2,2025-01-15,Exam,1,90.00,,open\r\n'
    '5101,A-3,2025-01-16,"Frames, titanium",1,"$1,179.00",,open\r\n'
).encode()


async def test_admin_imports_invoices_the_unknown_chart_refused_and_the_balance_derived(user: User) -> None:
    await factories.make_ready_practice()
    patient = await factories.make_patient(chart_number='5101', first_name='Ana', last_name='Müller')
    await staff_sign_in(user)
    await user.open('/staff/import')
    user.find(marker='import-kind').elements.pop().set_value('invoices')
    response = await user.http_client.get('/staff/import/template-invoices.csv')
    assert response.status_code == 200 and 'Chart number,Invoice number,Invoice date,Description' in response.text

    await upload(user, INVOICES, 'invoices.csv')
    await user.should_see('invoices.csv: 3 rows')
    assert user.find(marker='column-unit_price').elements.pop().value == 'Price'
    user.find(marker='import-preview').click()
    await user.should_see('Refused: 1', retries=50)
    table = user.find(marker='preview-table').elements.pop()
    assert [(r['row'], r['action'], r['name']) for r in table.rows] == [
        (3, 'Refused', 'Chart 5999'),
        (2, 'New invoice', 'Müller, Ana'),
        (4, 'New invoice', 'Müller, Ana'),
    ]
    assert table.rows[0]['reason'].startswith('Invoice A-2: No patient with chart number 5999 is on file.')

    user.find(marker='import-start').click()
    await wait_until(lambda: ImportJob.exists(status=JobStatus.DONE), timeout=20)
    await jobs.wait_for_background()
    await user.should_see('New: 2', retries=100)
    assert (await billing.billing_for(patient.id)).balance_cents == 117900  # the exam was paid in full


async def test_a_job_whose_only_remarks_are_notes_still_shows_them(user: User) -> None:
    await factories.make_ready_practice()
    patient = await factories.make_active_patient(
        first_name='Pat', last_name='Portal', chart_number='5001', email='pat@example.com'
    )
    await staff_sign_in(user)
    await user.open('/staff/import')

    row = f'5001,Pat,Portal,{patient.date_of_birth},new@example.com,(207) 555-0199'  # a new phone, a new email
    await upload(user, f'Chart,First,Last,DOB,Email,Phone\r\n{row}\r\n'.encode())
    await user.should_see('patients.csv: 1 row')
    user.find(marker='import-preview').click()
    await user.should_see(marker='preview-summary', retries=50)
    user.find(marker='import-start').click()
    await wait_until(lambda: ImportJob.exists(status=JobStatus.DONE), timeout=20)
    await jobs.wait_for_background()

    # Its last state drawn (a redraw from the running job's events would take the button away under the click).
    await user.should_see('Finished', retries=100)
    await user.should_see('Imported with a note: 1', retries=100)
    user.find('Show refused and noted rows').click()
    await user.should_see('Rows of patients.csv')
    [table] = user.find(ui.table).elements
    [row] = table.rows
    assert row['outcome'] == 'Imported, note' and 'portal is active' in row['reason']


async def test_two_import_events_at_once_are_read_one_after_the_other_and_the_held_row_can_be_resolved(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    await factories.make_ready_practice()
    twin_a = await factories.make_patient(first_name='Sam', last_name='Twin', chart_number='')
    await factories.make_patient(first_name='Sam', last_name='Twin', chart_number='')
    admin = await staff_sign_in(user)
    await user.open('/staff/import')
    await user.should_see('Import records')
    running, most = [0], [0]
    screen_class = sys.modules['pages.staff.csv_import'].ImportScreen  # the test harness imports pages anew
    load = screen_class.load

    async def slow_load(screen: object) -> tuple[bool, bool]:  # two loads would overlap if allowed to
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            await asyncio.sleep(0.05)
            return await load(screen)
        finally:
            running[0] -= 1

    monkeypatch.setattr(screen_class, 'load', slow_load)
    other = await factories.make_staff('admin', name='Other Admin')  # its import's events reach its own pages
    await run_kind('patients', FILE, other, 'patients.csv')
    [held] = await jobs.held_for_review()

    # Both events compared with the same earlier state would both redraw: the second would delete the
    # buttons of the first under a click on its way.
    await asyncio.gather(*(events.publish_staff(admin.id, jobs.IMPORT_EVENTS) for _ in range(2)))
    await user.should_see(marker=f'resolve-{held.id}-{twin_a.id}', retries=100)
    await wait_until(lambda: _settled(running), timeout=5)
    assert most[0] == 1
    user.find(marker=f'resolve-{held.id}-{twin_a.id}').click()
    await user.should_see('saved to Sam Twin', retries=50)


async def _settled(running: list[int]) -> bool:
    await asyncio.sleep(0.2)
    return running[0] == 0
