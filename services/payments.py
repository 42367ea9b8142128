"""Payments and refunds on an invoice: positive amounts only; an overpayment only with the credit confirmed.

Each is written with its audit row in one transaction, with the invoice row locked while the balance is
checked, and announced (billing topic) after commit so the patient's open Billing tab shows the new balance.
"""

from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from models.billing import PAYMENT_METHODS, Invoice, Payment
from services import audit, events
from services.errors import DomainError
from services.invoices import MAX_CENTS, InvoiceIsVoid, InvoiceTotals, locked_invoice, totals_of
from services.money import format_money
from services.typed_text import UNSTORABLE_SENTENCE, one_line, unstorable

REFERENCE_MAX = 100


class InvalidPayment(DomainError):
    """What is wrong with the payment or refund, in words the receptionist can act on."""


class OverpaymentNeedsConfirmation(InvalidPayment):
    """More than the balance: the difference would become a credit, which staff must confirm."""

    def __init__(self, amount_cents: int, balance_cents: int, number: str) -> None:
        self.credit_cents = amount_cents - max(balance_cents, 0)
        owed = f'the balance of {format_money(balance_cents)}' if balance_cents > 0 else 'the balance (nothing is owed)'
        super().__init__(
            f'The payment of {format_money(amount_cents)} is more than {owed} on invoice {number}. '
            f'Confirm to keep {format_money(self.credit_cents)} as a credit for the patient, or correct the amount.'
        )


@dataclass(frozen=True)
class PaymentInput:
    amount_cents: int
    paid_on: date
    method: str = 'card'
    reference: str = ''


def validated_entry(entry: PaymentInput, what: str) -> PaymentInput:
    """The entry as recorded (reference on one line), or InvalidPayment saying what is wrong; `what` is
    'payment' or 'refund'."""
    if entry.amount_cents <= 0:
        raise InvalidPayment(f'The {what} must be more than $0.00.')
    if entry.amount_cents > MAX_CENTS:
        raise InvalidPayment(f'The {what} of {format_money(entry.amount_cents)} is too large; please check it.')
    if entry.method not in PAYMENT_METHODS:
        raise InvalidPayment('Choose how the money was paid: ' + ', '.join(PAYMENT_METHODS.values()) + '.')
    reference = one_line(entry.reference)
    if len(reference) > REFERENCE_MAX:
        raise InvalidPayment(f'Please keep the reference under {REFERENCE_MAX} characters.')
    if unstorable(reference):
        raise InvalidPayment(UNSTORABLE_SENTENCE.format(label='reference'))
    return PaymentInput(entry.amount_cents, entry.paid_on, entry.method, reference)


async def record_payment(
    invoice_id: int, entry: PaymentInput, actor: audit.Actor, *, confirm_credit: bool = False
) -> InvoiceTotals:
    """A patient payment. More than the balance is refused unless `confirm_credit`: the rest becomes a credit
    that nets against the patient's other invoices. Returns the invoice's totals after the payment."""
    entry = validated_entry(entry, 'payment')
    async with in_transaction():
        invoice = await locked_invoice(invoice_id)
        if invoice.is_void:
            raise InvoiceIsVoid(invoice.number)
        balance = totals_of(invoice).balance_cents
        if entry.amount_cents > balance and not confirm_credit:
            raise OverpaymentNeedsConfirmation(entry.amount_cents, balance, invoice.number)
        after = await insert_payment(invoice, entry, actor)
    await events.publish(invoice.patient_id, events.BILLING)
    return after


async def insert_payment(invoice: Invoice, entry: PaymentInput, actor: audit.Actor) -> InvoiceTotals:
    """Write a validated payment on an invoice whose lines, adjustments and payments are fetched, with its audit
    row; the invoice's totals after it. Call inside a transaction (the balance rules are the caller's) and
    publish the billing event after commit: `record_payment` does it for one, the CSV import for a chunk."""
    payment = await Payment.create(
        invoice=invoice,
        kind='payment',
        amount_cents=entry.amount_cents,
        paid_on=entry.paid_on,
        method=entry.method,
        reference=entry.reference,
    )
    invoice.payments.related_objects.append(payment)
    after = totals_of(invoice)
    await audit.record(
        'payment.recorded',
        actor,
        patient_id=invoice.patient_id,
        object_type='invoice',
        object_id=invoice.id,
        detail={
            'payment_id': payment.id,
            'amount_cents': entry.amount_cents,
            'method': entry.method,
            'credit_cents': max(-after.balance_cents, 0),
        },
    )
    return after


async def record_refund(invoice_id: int, entry: PaymentInput, actor: audit.Actor) -> InvoiceTotals:
    """Money back to the patient, at most what they paid on this invoice (net of earlier refunds).
    Allowed on a void invoice: that is how a credit left by voiding goes back to the patient."""
    entry = validated_entry(entry, 'refund')
    async with in_transaction():
        invoice = await locked_invoice(invoice_id)
        paid = totals_of(invoice).patient_paid_cents
        if entry.amount_cents > paid:
            raise InvalidPayment(
                f'The refund of {format_money(entry.amount_cents)} is more than the {format_money(paid)} '
                f'the patient paid on invoice {invoice.number}.'
            )
        refund = await Payment.create(
            invoice=invoice,
            kind='refund',
            amount_cents=entry.amount_cents,
            paid_on=entry.paid_on,
            method=entry.method,
            reference=entry.reference,
        )
        invoice.payments.related_objects.append(refund)
        after = totals_of(invoice)
        await audit.record(
            'refund.recorded',
            actor,
            patient_id=invoice.patient_id,
            object_type='invoice',
            object_id=invoice.id,
            detail={'payment_id': refund.id, 'amount_cents': entry.amount_cents, 'method': entry.method},
        )
    await events.publish(invoice.patient_id, events.BILLING)
    return after
