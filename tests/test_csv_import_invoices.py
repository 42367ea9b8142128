"""CSV import of invoices: lines grouped by invoice number, strict money, payments, voids and re-runs."""

from decimal import Decimal

import pytest

from models.api_client import ExternalIdentifier
from models.audit import AuditEvent
from models.billing import Invoice, Payment
from models.csv_import import ImportRow
from models.patient import Patient
from models.practice import Practice
from services import billing, events, invoices, payments
from services.csv_import import invoices as csv_invoices
from services.csv_import import jobs, mapping, records
from services.csv_import.rows import Action
from services.fhir_r4 import invoices as fhir_invoices
from tests.csv_import_runs import run_kind
from tests.factories import make_patient, make_ready_practice, make_staff

HEADER = 'Chart #;Invoice #;Date;Description;Qty;Price;Taxable;Paid;Status'


def bills(*rows: str, header: str = HEADER) -> bytes:
    """As Excel on Windows writes it with a European list separator: semicolons, CRLF, UTF-8 with a BOM."""
    return ('\r\n'.join([header, *rows]) + '\r\n').encode('utf-8-sig')


@pytest.fixture
async def admin(db: object) -> object:
    await make_ready_practice(sales_tax_percent=Decimal('5.5'))
    await make_patient(chart_number='1001', first_name='Jamie', last_name='Rivera')
    await make_patient(chart_number='1002', first_name='Ana', last_name='Müller')
    return await make_staff('admin')


async def loaded(number: str) -> Invoice:
    [record_id] = await ExternalIdentifier.filter(resource_type='Invoice', value=number).values_list(
        'object_id', flat=True
    )
    return await invoices.load_invoice(record_id)


async def test_a_messy_file_groups_lines_by_number_derives_totals_and_refuses_a_bad_invoice_alone(
    admin: object,
) -> None:
    data = bills(
        '1001;A-1;2025-01-15;Comprehensive eye exam;1;$150.00;no;$329.00;paid',
        '1002;B-9;2025-01-16;"Frames; ""Harbor"", titanium";1;$1,234.50;yes;;open',
        '1001;A-2;2025-01-20;Contact lenses;2;12.345;;;',
        '9999;C-1;2025-01-20;Exam;1;90;;;',
        '1001;A-1;2025-01-15;Frames, titanium;1;179.00;no;;',
        '1002;B-10;13/45/2025;Exam;1;90;;;',
        '1002;B-11;2025-01-20;Exam;1;12,50;;;',
    )
    plans, _ = await run_kind('invoices', data, admin)
    by_row = {p.row_number: p for p in plans}
    assert sorted(by_row) == [2, 3, 4, 5, 7, 8]  # row 6 is the second line of A-1
    assert [by_row[n].action for n in (2, 3, 4, 5, 7, 8)] == [
        Action.CREATE, Action.CREATE, Action.REFUSED, Action.REFUSED, Action.REFUSED, Action.REFUSED,
    ]  # fmt: skip
    assert by_row[4].reason == (
        'Row 4: The unit price "12.345" is not an amount in dollars and cents: write it as 1234.50 or $1,234.50.'
    )
    assert by_row[5].reason.startswith('Invoice C-1: No patient with chart number 9999 is on file.')
    assert '"13/45/2025" is not a date' in by_row[7].reason
    assert '"12,50" is not an amount' in by_row[8].reason

    paid = await loaded('A-1')
    assert [line.description for line in invoices.sorted_lines(paid)] == ['Comprehensive eye exam', 'Frames, titanium']
    totals = invoices.totals_of(paid)
    assert (totals.total_cents, totals.balance_cents) == (32900, 0)
    assert paid.number.startswith('INV-')  # numbered like every invoice; the source's number is its identifier
    [payment] = paid.payments
    assert (payment.amount_cents, payment.method) == (32900, 'other')

    frames = await loaded('B-9')
    assert invoices.sorted_lines(frames)[0].description == 'Frames; "Harbor", titanium'
    assert invoices.totals_of(frames).balance_cents == 123450 + 6790  # 5.5% tax on the taxable line, half up
    ana = await Patient.get(chart_number='1002')
    assert (await billing.billing_for(ana.id)).balance_cents == 130240
    assert await AuditEvent.filter(action='invoice.written', actor_type='import').count() == 2
    assert await AuditEvent.filter(action='payment.recorded', actor_type='import').count() == 1


async def test_the_same_file_twice_changes_nothing_and_an_updated_file_adds_only_the_new_payment(
    admin: object,
) -> None:
    rows = [
        '1001;A-1;2025-01-15;Exam;1;150.00;;50;open',
        '1001;A-2;2025-01-18;Lenses;1;80.00;;;',
    ]
    await run_kind('invoices', bills(*rows), admin)
    audit_rows = await AuditEvent.filter(object_type='invoice').count()
    payment_rows = await Payment.all().count()
    plans, _ = await run_kind('invoices', bills(*rows), admin)
    assert [p.action for p in plans] == [Action.UNCHANGED, Action.UNCHANGED]
    assert await AuditEvent.filter(object_type='invoice').count() == audit_rows
    assert await Payment.all().count() == payment_rows
    assert await Invoice.all().count() == 2

    heard: list[events.Event] = []

    async def hear(event: events.Event) -> None:
        heard.append(event)

    jamie = await Patient.get(chart_number='1001')
    unsubscribe = events.subscribe(jamie.id, hear)
    updated = ['1001;A-1;2025-01-15;Exam;1;150.00;;150;paid', '1001;A-2;2025-01-18;Lenses;1;80.00;;;void']
    plans, _ = await run_kind('invoices', bills(*updated), admin)
    unsubscribe()
    assert [(p.action, p.changed) for p in plans] == [(Action.UPDATE, ['payment']), (Action.UPDATE, ['void'])]
    exam = await loaded('A-1')
    assert sorted(p.amount_cents for p in exam.payments) == [5000, 10000]
    assert invoices.totals_of(exam).balance_cents == 0
    assert (await loaded('A-2')).void_reason == "Void in the practice's previous system."
    assert any(e.topic == events.BILLING for e in heard)  # the open Billing tab shows the new balance

    rewritten = '1001;A-1;2025-01-15;Exam;1;175.00;;150;paid'
    fewer = '1001;A-1;2025-01-15;Exam;1;150.00;;20;open'
    plans, _ = await run_kind('invoices', bills(rewritten), admin)
    assert plans[0].action == Action.REFUSED and 'An invoice is never rewritten' in plans[0].reason
    plans, _ = await run_kind('invoices', bills(fewer), admin)
    assert plans[0].action == Action.REFUSED and 'never takes a payment back' in plans[0].reason


async def test_rows_of_one_invoice_that_disagree_refuse_that_invoice(admin: object) -> None:
    data = bills(
        '1001;A-1;2025-01-15;Exam;1;150.00;;;',
        '1002;A-1;2025-01-15;Frames;1;100.00;;;',
        '1001;A-3;2025-01-15;Exam;1;150.00;;40;paid',
    )
    plans, _ = await run_kind('invoices', data, admin)
    assert plans[0].reason == 'Rows 2 and 3 of this invoice disagree on the chart number ("1001", "1002").'
    assert plans[1].action == Action.REFUSED and 'marked paid, but $40.00 of the $150.00' in plans[1].reason
    assert await Invoice.all().count() == 0


async def test_an_overpayment_is_a_credit_and_the_tax_rate_is_the_practices(admin: object) -> None:
    plans, _ = await run_kind('invoices', bills('1001;A-5;2025-01-15;Sunglasses;1;100.00;yes;110.00;paid'), admin)
    assert plans[0].reason == '$4.50 more than owed was paid: kept as a credit for the patient.'
    invoice = await loaded('A-5')
    practice = await Practice.first()
    assert invoice.tax_percent == practice.sales_tax_percent
    assert invoices.totals_of(invoice).balance_cents == -450


async def test_a_crash_inside_an_invoice_leaves_no_invoice_without_its_payment(
    admin: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = payments.insert_payment

    async def failing(invoice: Invoice, entry: payments.PaymentInput, actor: object) -> object:
        if entry.amount_cents == 6600:
            raise ConnectionError('the database went away')
        return await real(invoice, entry, actor)

    monkeypatch.setattr(payments, 'insert_payment', failing)
    data = bills('1001;A-1;2025-01-15;Exam;1;150.00;;150;paid', '1002;A-2;2025-01-15;Exam;1;66.00;;66;paid')
    _, job = await run_kind('invoices', data, admin)
    assert (job.created, job.refused) == (1, 1)  # the chunk was rolled back and retried invoice by invoice
    [row] = await ImportRow.filter(job_id=job.id)
    assert (row.row_number, row.reason) == (3, 'This row could not be saved. Check it and import it again.')
    assert await Invoice.all().count() == 1 and await ExternalIdentifier.filter(value='A-2').count() == 0
    assert invoices.totals_of(await loaded('A-1')).balance_cents == 0

    monkeypatch.setattr(payments, 'insert_payment', real)
    _, again = await run_kind('invoices', data, admin)
    assert (again.created, again.unchanged, again.refused) == (1, 1, 0)  # the file imported again finishes it


async def test_the_downloadable_template_imports_as_it_is(admin: object) -> None:
    data = mapping.template_csv('invoices').encode()
    upload = jobs.read_upload('template.csv', data)
    assert set(mapping.guess('invoices', upload.table.headers)) == {f.name for f in csv_invoices.FIELDS}
    plans, job = await run_kind('invoices', data, admin)
    assert [p.action for p in plans] == [Action.CREATE] * 3 and job.refused == 0
    void = await loaded('A-7003')
    assert void.void_reason == 'Entered twice'
    resource = await fhir_invoices.read(void.id)  # the FHIR API shows the source's number, as it keeps its own
    assert {'system': records.SOURCE_SYSTEMS['Invoice'], 'value': 'A-7003'} in resource['identifier']
