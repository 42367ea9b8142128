"""Invoices: every total derived from lines, tax, insurance, adjustments and payments; void keeps the record."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from models.audit import AuditEvent
from models.billing import Invoice, InvoiceLine
from services import audit, billing, events, invoices
from services.errors import NotFound
from services.invoices import AdjustmentDraft, InvoiceDraft, LineDraft, compute_totals, tax_on
from services.money import InvalidAmount, parse_money
from tests import factories
from tests.portal_user import wait_until

ISSUED = date(2026, 3, 2)


async def _patient(tax: str = '0'):
    practice = await factories.make_practice(sales_tax_percent=Decimal(tax))
    return await factories.make_patient(practice), practice


async def _staff_actor() -> audit.Actor:
    return audit.Actor.staff(await factories.make_staff())


def _draft(*lines: LineDraft, **fields: object) -> InvoiceDraft:
    return InvoiceDraft(issued_on=ISSUED, lines=list(lines), **fields)  # type: ignore[arg-type]


def test_tax_is_rounded_half_up_once_per_invoice():
    assert tax_on(1000, Decimal('5.5')) == 55
    assert tax_on(10, Decimal('5')) == 1  # 0.5 cent rounds up
    assert tax_on(9, Decimal('5')) == 0  # 0.45 cent rounds down
    lines = [LineDraft('Cleaning cloth', 10, taxable=True) for _ in range(3)]
    assert compute_totals(lines, Decimal('5')).tax_cents == 2  # 1.5 cents once, not 0.5 three times


def test_only_taxable_lines_are_taxed_and_adjustments_and_insurance_come_off_after_tax():
    lines = [LineDraft('Comprehensive eye exam', 15000), LineDraft('Frames', 12000, quantity=2, taxable=True)]
    totals = compute_totals(
        lines,
        Decimal('8.25'),
        insurance_expected_cents=10000,
        insurance_paid_cents=4000,
        adjustments=[AdjustmentDraft('discount', 2500)],
    )
    assert totals.subtotal_cents == 39000
    assert totals.taxable_cents == 24000
    assert totals.tax_cents == 1980
    assert totals.total_cents == 40980
    assert totals.insurance_portion_cents == 10000  # the larger of expected and paid
    assert totals.insurance_pending_cents == 6000
    assert totals.patient_responsibility_cents == 40980 - 2500 - 10000
    assert totals.balance_cents == totals.patient_responsibility_cents


def test_insurance_paying_more_than_expected_lowers_the_patient_share():
    totals = compute_totals(
        [LineDraft('Exam', 20000)], Decimal(0), insurance_expected_cents=5000, insurance_paid_cents=8000
    )
    assert totals.insurance_portion_cents == 8000
    assert totals.patient_responsibility_cents == 12000


def test_amounts_typed_in_dollars_become_cents_and_sub_cent_amounts_are_refused():
    assert parse_money('1,234.50') == 123450
    assert parse_money('$12') == 1200
    assert parse_money(12.5) == 1250
    assert parse_money('') == 0
    for bad in ('12.345', 'abc', 'NaN'):
        with pytest.raises(InvalidAmount):
            parse_money(bad)


async def test_writing_an_invoice_copies_the_practice_tax_rate_and_derives_its_totals(db):
    patient, practice = await _patient('6.25')
    provider = await factories.make_provider(practice, npi='1234567893')
    actor = await _staff_actor()
    heard: list[events.Event] = []

    async def hear(event: events.Event) -> None:
        heard.append(event)

    events.subscribe(patient.id, hear)
    invoice = await invoices.write_invoice(
        patient.id,
        _draft(
            LineDraft('Comprehensive eye exam', 15000, service_date=ISSUED - timedelta(days=3)),
            LineDraft('Progressive lenses', 38500, taxable=True),
            provider_id=provider.id,
            due_on=ISSUED + timedelta(days=30),
            insurance_expected_cents=12000,
            adjustments=[AdjustmentDraft('discount', 1000, 'Family discount')],
        ),
        actor,
    )

    async def billing_heard() -> bool:
        return events.Event(patient.id, events.BILLING) in heard

    await wait_until(billing_heard)
    practice.sales_tax_percent = Decimal('9')  # a later change of rate leaves written invoices alone
    await practice.save()

    stored = await invoices.load_invoice(invoice.id)
    assert stored.number == f'INV-{invoice.id:05d}'
    assert stored.tax_percent == Decimal('6.25')
    assert stored.provider_id == provider.id
    totals = invoices.totals_of(stored)
    assert totals.tax_cents == 2406  # 385.00 * 6.25% = 24.0625
    assert totals.total_cents == 15000 + 38500 + 2406
    assert totals.balance_cents == 15000 + 38500 + 2406 - 1000 - 12000
    lines = invoices.sorted_lines(stored)
    assert [line.service_date for line in lines] == [ISSUED - timedelta(days=3), ISSUED]  # default: invoice date
    written = await AuditEvent.get(action='invoice.written', object_id=invoice.id)
    assert (written.actor_type, written.patient_id) == ('staff', patient.id)


@pytest.mark.parametrize(
    ('draft', 'message'),
    [
        (_draft(), 'Add at least one line'),
        (_draft(LineDraft('  ', 100)), 'Line 1 needs a description'),
        (_draft(LineDraft('Exam', -100)), 'cannot be negative'),
        (_draft(LineDraft('Exam', 100, quantity=0)), 'quantity on line 1'),
        (_draft(LineDraft('Exam', 100, service_date=ISSUED + timedelta(days=1))), 'after the invoice date'),
        (_draft(LineDraft('Exam', 100), due_on=ISSUED - timedelta(days=1)), 'due date cannot be before'),
        (_draft(LineDraft('Exam', 100), insurance_expected_cents=-1), 'Insurance expected cannot be negative'),
        (_draft(LineDraft('Exam', 100), adjustments=[AdjustmentDraft('gift', 10)]), 'write-off or a discount'),
        (_draft(LineDraft('Exam', 100), adjustments=[AdjustmentDraft('write_off', 0)]), 'more than $0.00'),
        (
            _draft(
                LineDraft('Exam', 10000), insurance_expected_cents=9000, adjustments=[AdjustmentDraft('discount', 1001)]
            ),
            'more than the invoice total of $100.00',
        ),
    ],
)
async def test_invoices_a_practice_would_not_send_are_refused_with_the_reason(db, draft, message):
    patient, _ = await _patient()
    with pytest.raises(invoices.InvalidInvoice, match=re.escape(message)):
        await invoices.write_invoice(patient.id, draft, audit.SYSTEM)
    assert not await Invoice.exists()


async def test_a_provider_of_another_practice_is_refused(db):
    patient, _ = await _patient()
    stranger = await factories.make_provider(await factories.make_practice(name='Elsewhere'))
    with pytest.raises(invoices.InvalidInvoice, match='provider of this practice'):
        await invoices.write_invoice(patient.id, _draft(LineDraft('Exam', 100), provider_id=stranger.id), audit.SYSTEM)


async def test_an_invoice_for_a_missing_patient_is_not_found(db):
    with pytest.raises(NotFound):
        await invoices.write_invoice(999999, _draft(LineDraft('Exam', 100)), audit.SYSTEM)


async def test_a_write_that_fails_halfway_leaves_neither_invoice_nor_audit_row(db, monkeypatch):
    patient, _ = await _patient()

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError('disk full')

    monkeypatch.setattr(invoices.audit, 'record', broken)
    with pytest.raises(RuntimeError):
        await invoices.write_invoice(patient.id, _draft(LineDraft('Exam', 100)), audit.SYSTEM)
    assert not await Invoice.exists()
    assert not await InvoiceLine.exists()


async def test_a_later_write_off_lowers_the_balance_but_never_below_what_the_patient_owes(db):
    patient, _ = await _patient()
    invoice = await factories.make_invoice(patient, [('Exam', 10000)], insurance_expected_cents=6000)
    actor = await _staff_actor()
    await invoices.add_adjustment(invoice.id, AdjustmentDraft('write_off', 1500, 'Hardship'), actor)
    assert invoices.totals_of(await invoices.load_invoice(invoice.id)).balance_cents == 2500
    with pytest.raises(invoices.InvalidInvoice, match='more than the \\$25.00 the patient is responsible for'):
        await invoices.add_adjustment(invoice.id, AdjustmentDraft('write_off', 2501), actor)
    event = await AuditEvent.get(action='invoice.adjusted')
    assert event.detail == {'kind': 'write_off', 'amount_cents': 1500, 'reason': 'Hardship'}


async def test_insurance_settling_lower_than_expected_moves_the_rest_to_the_patient(db):
    patient, _ = await _patient()
    invoice = await factories.make_invoice(patient, [('Exam', 10000)], insurance_expected_cents=8000)
    totals = await invoices.set_insurance(invoice.id, expected_cents=5000, paid_cents=5000, actor=audit.SYSTEM)
    assert (totals.insurance_pending_cents, totals.balance_cents) == (0, 5000)
    with pytest.raises(invoices.InvalidInvoice, match='more than the invoice total'):
        await invoices.set_insurance(invoice.id, expected_cents=0, paid_cents=10001, actor=audit.SYSTEM)


async def test_a_void_invoice_is_kept_with_its_reason_and_owes_nothing(db):
    patient, _ = await _patient()
    kept = await factories.make_invoice(patient, [('Exam', 10000)])
    wrong = await factories.make_invoice(patient, [('Frames entered twice', 24900)])
    actor = await _staff_actor()
    with pytest.raises(invoices.InvalidInvoice, match='reason for voiding'):
        await invoices.void_invoice(wrong.id, '   ', actor)
    await invoices.void_invoice(wrong.id, 'Entered twice', actor)

    summary = await billing.billing_for(patient.id)
    assert summary.balance_cents == 10000
    void = [view for view in summary.invoices if view.invoice.id == wrong.id][0]
    assert (void.status, void.invoice.void_reason, void.totals.total_cents) == ('void', 'Entered twice', 24900)
    assert [view.invoice.id for view in summary.open_invoices] == [kept.id]
    with pytest.raises(invoices.InvoiceIsVoid, match='is void'):
        await invoices.void_invoice(wrong.id, 'Again', actor)
    assert await AuditEvent.filter(action='invoice.voided', object_id=wrong.id).count() == 1


async def test_overdue_only_after_the_due_date_of_an_open_invoice(db):
    patient, _ = await _patient()
    due = date(2026, 4, 1)
    await factories.make_invoice(patient, [('Exam', 10000)], issued_on=ISSUED, due_on=due, number='INV-DUE')
    await factories.make_invoice(patient, [('Lenses', 5000)], 5000, issued_on=ISSUED, due_on=due, number='INV-PAID')
    on_due_day = await billing.billing_for(patient.id, today=due)
    day_after = await billing.billing_for(patient.id, today=due + timedelta(days=1))
    assert [(v.invoice.number, v.status) for v in on_due_day.invoices] == [('INV-DUE', 'open'), ('INV-PAID', 'paid')]
    assert [(v.invoice.number, v.status) for v in day_after.invoices] == [('INV-DUE', 'overdue'), ('INV-PAID', 'paid')]
