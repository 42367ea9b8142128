"""Payments and refunds: positive amounts, overpayment only as a confirmed credit, credits net the balance."""

import asyncio
from datetime import date

import pytest

from models.audit import AuditEvent
from models.billing import Payment
from services import audit, billing, invoices, payments
from services.invoices import AdjustmentDraft, InvoiceDraft, LineDraft, compute_totals
from services.payments import InvalidPayment, OverpaymentNeedsConfirmation, PaymentInput
from tests import factories

TODAY = date(2026, 5, 4)


def _pay(cents: int, method: str = 'card', reference: str = '') -> PaymentInput:
    return PaymentInput(cents, TODAY, method, reference)


async def _invoice(cents: int = 10000, **fields: object):
    patient = await factories.make_patient()
    return patient, await factories.make_invoice(patient, [('Comprehensive eye exam', cents)], **fields)


async def test_a_payment_lowers_the_balance_and_is_audited_with_its_method(db):
    patient, invoice = await _invoice()
    staff = await factories.make_staff()
    totals = await payments.record_payment(invoice.id, _pay(4000, 'check', ' #1042 '), audit.Actor.staff(staff))
    assert (totals.patient_paid_cents, totals.balance_cents) == (4000, 6000)
    payment = await Payment.get(invoice_id=invoice.id)
    assert (payment.kind, payment.method, payment.reference, payment.paid_on) == ('payment', 'check', '#1042', TODAY)
    event = await AuditEvent.get(action='payment.recorded')
    assert (event.actor_id, event.patient_id, event.object_id) == (staff.id, patient.id, invoice.id)
    assert event.detail['amount_cents'] == 4000


@pytest.mark.parametrize('cents', [0, -500])
async def test_zero_or_negative_payments_and_refunds_are_refused(db, cents):
    _, invoice = await _invoice()
    with pytest.raises(InvalidPayment, match='must be more than \\$0.00'):
        await payments.record_payment(invoice.id, _pay(cents), audit.SYSTEM)
    with pytest.raises(InvalidPayment, match='must be more than \\$0.00'):
        await payments.record_refund(invoice.id, _pay(cents), audit.SYSTEM)
    assert not await Payment.exists()


async def test_an_unknown_payment_method_is_refused(db):
    _, invoice = await _invoice()
    with pytest.raises(InvalidPayment, match='Choose how the money was paid'):
        await payments.record_payment(invoice.id, _pay(100, 'bitcoin'), audit.SYSTEM)


async def test_paying_more_than_the_balance_needs_the_credit_confirmed(db):
    patient, invoice = await _invoice()
    with pytest.raises(OverpaymentNeedsConfirmation) as refused:
        await payments.record_payment(invoice.id, _pay(12500), audit.SYSTEM)
    assert str(refused.value) == (
        f'The payment of $125.00 is more than the balance of $100.00 on invoice {invoice.number}. '
        'Confirm to keep $25.00 as a credit for the patient, or correct the amount.'
    )
    assert not await Payment.exists()

    totals = await payments.record_payment(invoice.id, _pay(12500), audit.SYSTEM, confirm_credit=True)
    assert totals.balance_cents == -2500
    summary = await billing.billing_for(patient.id)
    assert summary.invoices[0].status == 'credit'
    assert summary.credit_cents == 2500
    assert (await AuditEvent.get(action='payment.recorded')).detail['credit_cents'] == 2500


async def test_a_credit_nets_against_the_patients_other_invoices(db):
    patient, overpaid = await _invoice(10000)
    await factories.make_invoice(patient, [('Frames', 24900)])
    await payments.record_payment(overpaid.id, _pay(15000), audit.SYSTEM, confirm_credit=True)
    summary = await billing.billing_for(patient.id)
    assert summary.owed_cents == 24900
    assert summary.credit_cents == 5000
    assert summary.balance_cents == 19900


async def test_a_refund_cannot_exceed_what_the_patient_paid_on_the_invoice(db):
    _, invoice = await _invoice()
    await payments.record_payment(invoice.id, _pay(6000), audit.SYSTEM)
    with pytest.raises(InvalidPayment, match='more than the \\$60.00 the patient paid'):
        await payments.record_refund(invoice.id, _pay(6001), audit.SYSTEM)
    totals = await payments.record_refund(invoice.id, _pay(2000, 'card', 'RF-1'), audit.SYSTEM)
    assert (totals.payments_cents, totals.refunds_cents, totals.balance_cents) == (6000, 2000, 6000)
    with pytest.raises(InvalidPayment, match='more than the \\$40.00'):
        await payments.record_refund(invoice.id, _pay(4001), audit.SYSTEM)
    assert await AuditEvent.filter(action='refund.recorded').count() == 1


async def test_payments_on_a_void_invoice_are_refused_but_its_credit_can_be_refunded(db):
    patient, invoice = await _invoice()
    await payments.record_payment(invoice.id, _pay(3000), audit.SYSTEM)
    await invoices.void_invoice(invoice.id, 'Billed to the wrong patient', audit.SYSTEM)
    assert (await billing.billing_for(patient.id)).balance_cents == -3000  # what was paid stays as a credit
    with pytest.raises(invoices.InvoiceIsVoid):
        await payments.record_payment(invoice.id, _pay(100), audit.SYSTEM, confirm_credit=True)
    await payments.record_refund(invoice.id, _pay(3000), audit.SYSTEM)
    assert (await billing.billing_for(patient.id)).balance_cents == 0


async def test_two_clerks_paying_the_same_balance_at_once_cannot_both_skip_the_credit_check(db):
    _, invoice = await _invoice()
    results = await asyncio.gather(
        payments.record_payment(invoice.id, _pay(10000), audit.SYSTEM),
        payments.record_payment(invoice.id, _pay(10000), audit.SYSTEM),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ['InvoiceTotals', 'OverpaymentNeedsConfirmation']
    assert await Payment.filter(invoice_id=invoice.id).count() == 1


async def test_totals_shown_anywhere_are_always_the_derivation_of_the_stored_rows(db):
    """No total is stored, so none can drift: after every kind of write, what billing shows is exactly
    what the rows sum to when added up by hand here."""
    patient = await factories.make_patient()
    practice = await patient.practice
    practice.sales_tax_percent = 7
    await practice.save()
    invoice = await invoices.write_invoice(
        patient.id,
        InvoiceDraft(
            issued_on=TODAY,
            lines=[LineDraft('Exam', 12000), LineDraft('Lenses', 8999, quantity=2, taxable=True)],
            insurance_expected_cents=5000,
        ),
        audit.SYSTEM,
    )

    async def check() -> None:
        stored = await invoices.load_invoice(invoice.id)
        lines, adjustments, money = (
            await stored.lines.all(),
            await stored.adjustments.all(),
            await stored.payments.all(),
        )
        by_hand = 12000 + 2 * 8999 + round(2 * 8999 * 7 / 100)  # 1259.86 tax, rounds to 1260
        by_hand -= sum(a.amount_cents for a in adjustments) + max(
            stored.insurance_expected_cents, stored.insurance_paid_cents
        )
        by_hand -= sum(p.amount_cents if p.kind == 'payment' else -p.amount_cents for p in money)
        shown = (await billing.billing_for(patient.id)).invoices[0].totals
        assert shown == compute_totals(
            lines,
            stored.tax_percent,
            insurance_expected_cents=stored.insurance_expected_cents,
            insurance_paid_cents=stored.insurance_paid_cents,
            adjustments=adjustments,
            payments=money,
        )
        assert shown.balance_cents == by_hand

    await check()
    await payments.record_payment(invoice.id, _pay(10000), audit.SYSTEM)
    await check()
    await invoices.add_adjustment(invoice.id, AdjustmentDraft('discount', 1500, 'Senior'), audit.SYSTEM)
    await check()
    await invoices.set_insurance(invoice.id, expected_cents=4000, paid_cents=4000, actor=audit.SYSTEM)
    await check()
    await payments.record_refund(invoice.id, _pay(2500), audit.SYSTEM)
    await check()


async def test_the_billing_summary_runs_the_same_queries_for_one_or_many_invoices(db):
    from tests.queries import count_queries

    patient, invoice = await _invoice()
    with count_queries() as one:
        await billing.billing_for(patient.id)
    for n in range(6):
        extra = await factories.make_invoice(patient, [('Exam', 15000), ('Lenses', 20000)], n * 100)
        await invoices.add_adjustment(extra.id, AdjustmentDraft('discount', 100), audit.SYSTEM)
    with count_queries() as many:
        summary = await billing.billing_for(patient.id)
    assert len(summary.invoices) == 7
    assert many.count == one.count
