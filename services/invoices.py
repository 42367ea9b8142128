"""Writing invoices, and the one function that derives every total from what staff entered.

Rules, in the order a receptionist meets them:
- A line is date of service, description, quantity and unit price (integer cents, never negative), taxable
  or not. The tax rate is the practice's setting copied onto the invoice when it is written.
- Sales tax is the taxable lines' sum times the rate, rounded half up to the cent once per invoice (not per
  line, so three $0.005 taxes make $0.02, not $0.03). Adjustments come off after tax.
- The insurance portion is the larger of insurance expected and insurance paid (when a claim settles lower
  than expected, staff lower the expected amount and the rest moves to the patient).
- Patient responsibility = total - adjustments - insurance portion (never below zero: such an invoice is
  refused). Balance = patient responsibility - (patient payments - refunds). A negative balance is a credit,
  and credits net against the patient's other invoices.
- A void invoice owes nothing; payments already made on it stay as a credit until refunded.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from tortoise.transactions import in_transaction

from models.billing import ADJUSTMENT_KINDS, Invoice, InvoiceAdjustment, InvoiceLine, Payment
from models.patient import Patient
from models.practice import Provider
from services import audit, events
from services.errors import DomainError, NotFound
from services.money import format_money
from services.typed_text import UNSTORABLE_SENTENCE, one_line, unstorable

DESCRIPTION_MAX = 200
REASON_MAX = 200
VOID_REASON_MAX = 300
MAX_QUANTITY = 999
MAX_CENTS = 100_000_000  # $1,000,000.00: anything above is a typo, not an eye-care bill


class InvalidInvoice(DomainError):
    """What is wrong with the invoice form, in words the receptionist can act on."""


class InvoiceIsVoid(DomainError):
    def __init__(self, number: str) -> None:
        super().__init__(f'Invoice {number} is void: nothing more can be charged or paid on it.')


class _Line(Protocol):
    quantity: int
    unit_cents: int
    taxable: bool


class _Adjustment(Protocol):
    amount_cents: int


class _Payment(Protocol):
    kind: str
    amount_cents: int


@dataclass
class LineDraft:
    """One line as the form holds it (also what the live totals are derived from while typing)."""

    description: str
    unit_cents: int
    quantity: int = 1
    taxable: bool = False
    service_date: date | None = None


@dataclass
class AdjustmentDraft:
    kind: str  # one of ADJUSTMENT_KINDS
    amount_cents: int
    reason: str = ''


@dataclass
class InvoiceDraft:
    issued_on: date
    lines: list[LineDraft]
    due_on: date | None = None
    provider_id: int | None = None
    insurance_expected_cents: int = 0
    insurance_paid_cents: int = 0
    adjustments: list[AdjustmentDraft] = field(default_factory=list)


@dataclass(frozen=True)
class InvoiceTotals:
    """Every figure an invoice shows, derived; nothing here is ever stored."""

    subtotal_cents: int
    taxable_cents: int
    tax_cents: int
    total_cents: int
    adjustments_cents: int
    insurance_expected_cents: int
    insurance_paid_cents: int
    insurance_portion_cents: int
    patient_responsibility_cents: int
    payments_cents: int
    refunds_cents: int
    void: bool = False

    @property
    def patient_paid_cents(self) -> int:
        return self.payments_cents - self.refunds_cents

    @property
    def insurance_pending_cents(self) -> int:
        return self.insurance_portion_cents - self.insurance_paid_cents

    @property
    def balance_cents(self) -> int:
        """What the patient still owes on this invoice; negative is a credit in the patient's favor."""
        return self.patient_responsibility_cents - self.patient_paid_cents


def tax_on(taxable_cents: int, tax_percent: Decimal) -> int:
    """Sales tax in cents, rounded half up once per invoice."""
    exact = Decimal(taxable_cents) * Decimal(tax_percent) / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def compute_totals(
    lines: Iterable[_Line],
    tax_percent: Decimal,
    *,
    insurance_expected_cents: int = 0,
    insurance_paid_cents: int = 0,
    adjustments: Iterable[_Adjustment] = (),
    payments: Iterable[_Payment] = (),
    void: bool = False,
) -> InvoiceTotals:
    """The single derivation of an invoice's totals: the service, the pages, the PDF and the live form
    all call this, so no two screens can disagree about what a patient owes."""
    lines = list(lines)
    subtotal = sum(line.quantity * line.unit_cents for line in lines)
    taxable = sum(line.quantity * line.unit_cents for line in lines if line.taxable)
    tax = tax_on(taxable, tax_percent)
    total = subtotal + tax
    adjusted = sum(adjustment.amount_cents for adjustment in adjustments)
    insurance_portion = max(insurance_expected_cents, insurance_paid_cents)
    responsibility = 0 if void else total - adjusted - insurance_portion
    payments = list(payments)
    return InvoiceTotals(
        subtotal_cents=subtotal,
        taxable_cents=taxable,
        tax_cents=tax,
        total_cents=total,
        adjustments_cents=adjusted,
        insurance_expected_cents=insurance_expected_cents,
        insurance_paid_cents=insurance_paid_cents,
        insurance_portion_cents=insurance_portion,
        patient_responsibility_cents=responsibility,
        payments_cents=sum(p.amount_cents for p in payments if p.kind != 'refund'),
        refunds_cents=sum(p.amount_cents for p in payments if p.kind == 'refund'),
        void=void,
    )


def totals_of(invoice: Invoice) -> InvoiceTotals:
    """Totals of a stored invoice whose lines, adjustments and payments are fetched (prefetch_related)."""
    return compute_totals(
        invoice.lines,
        invoice.tax_percent,
        insurance_expected_cents=invoice.insurance_expected_cents,
        insurance_paid_cents=invoice.insurance_paid_cents,
        adjustments=invoice.adjustments,
        payments=invoice.payments,
        void=invoice.is_void,
    )


def totals_of_draft(draft: InvoiceDraft, tax_percent: Decimal) -> InvoiceTotals:
    """The live totals of the staff form: the same derivation as a stored invoice."""
    return compute_totals(
        draft.lines,
        tax_percent,
        insurance_expected_cents=draft.insurance_expected_cents,
        insurance_paid_cents=draft.insurance_paid_cents,
        adjustments=draft.adjustments,
    )


def _clean(text: str, label: str) -> str:
    text = one_line(text)
    if unstorable(text):
        raise InvalidInvoice(UNSTORABLE_SENTENCE.format(label=label))
    return text


def _check_amount(cents: int, what: str, *, allow_zero: bool) -> None:
    if cents < 0 or (cents == 0 and not allow_zero):
        raise InvalidInvoice(f'{what} must be more than $0.00.' if not allow_zero else f'{what} cannot be negative.')
    if cents > MAX_CENTS:
        raise InvalidInvoice(f'{what} of {format_money(cents)} is too large; please check the amount.')


def validate_draft(draft: InvoiceDraft, tax_percent: Decimal) -> InvoiceTotals:
    """Refuse what a practice would not send; the totals of a valid draft."""
    if not draft.lines:
        raise InvalidInvoice('Add at least one line to the invoice.')
    for number, line in enumerate(draft.lines, start=1):
        line.description = _clean(line.description, f'description of line {number}')
        if not line.description:
            raise InvalidInvoice(f'Line {number} needs a description.')
        if len(line.description) > DESCRIPTION_MAX:
            raise InvalidInvoice(f'Please keep the description of line {number} under {DESCRIPTION_MAX} characters.')
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise InvalidInvoice(f'The quantity on line {number} must be between 1 and {MAX_QUANTITY}.')
        _check_amount(line.unit_cents, f'The unit price on line {number}', allow_zero=True)
        if line.service_date and line.service_date > draft.issued_on:
            raise InvalidInvoice(f'The date of service on line {number} is after the invoice date.')
    if draft.due_on and draft.due_on < draft.issued_on:
        raise InvalidInvoice('The due date cannot be before the invoice date.')
    _check_amount(draft.insurance_expected_cents, 'Insurance expected', allow_zero=True)
    _check_amount(draft.insurance_paid_cents, 'Insurance paid', allow_zero=True)
    for adjustment in draft.adjustments:
        _check_adjustment(adjustment)
    totals = totals_of_draft(draft, tax_percent)
    if totals.patient_responsibility_cents < 0:
        raise InvalidInvoice(
            f'Insurance and adjustments ({format_money(totals.insurance_portion_cents + totals.adjustments_cents)}) '
            f'are more than the invoice total of {format_money(totals.total_cents)}.'
        )
    return totals


def _check_adjustment(adjustment: AdjustmentDraft) -> None:
    if adjustment.kind not in ADJUSTMENT_KINDS:
        raise InvalidInvoice('Choose whether the adjustment is a write-off or a discount.')
    _check_amount(adjustment.amount_cents, f'The {ADJUSTMENT_KINDS[adjustment.kind].lower()}', allow_zero=False)
    adjustment.reason = _clean(adjustment.reason, 'reason for the adjustment')
    if len(adjustment.reason) > REASON_MAX:
        raise InvalidInvoice(f'Please keep the reason for the adjustment under {REASON_MAX} characters.')


async def write_invoice(patient_id: int, draft: InvoiceDraft, actor: audit.Actor) -> Invoice:
    """Write a new invoice with its lines and adjustments; the practice's tax rate is copied onto it."""
    patient = await Patient.get_or_none(id=patient_id).select_related('practice')
    if patient is None:
        raise NotFound('patient')
    tax_percent = patient.practice.sales_tax_percent
    totals = validate_draft(draft, tax_percent)
    if draft.provider_id is not None and not await Provider.exists(
        id=draft.provider_id, practice_id=patient.practice_id
    ):
        raise InvalidInvoice('Choose a provider of this practice.')
    async with in_transaction():
        invoice = await insert_invoice(patient_id, draft, tax_percent, totals, actor)
    await events.publish(patient_id, events.BILLING)
    return invoice


async def insert_invoice(
    patient_id: int, draft: InvoiceDraft, tax_percent: Decimal, totals: InvoiceTotals, actor: audit.Actor
) -> Invoice:
    """Write a validated draft (`validate_draft`) with its lines, adjustments and audit row, numbered like every
    invoice. Call inside a transaction and publish the billing event after it commits: the console does it
    for one invoice, the CSV import for a chunk of them."""
    invoice = await Invoice.create(
        patient_id=patient_id,
        number=f'new-{uuid.uuid4().hex[:24]}',  # replaced below, once the id is known
        issued_on=draft.issued_on,
        due_on=draft.due_on,
        provider_id=draft.provider_id,
        tax_percent=tax_percent,
        insurance_expected_cents=draft.insurance_expected_cents,
        insurance_paid_cents=draft.insurance_paid_cents,
    )
    invoice.number = f'INV-{invoice.id:05d}'
    await invoice.save(update_fields=['number'])
    await InvoiceLine.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                service_date=line.service_date or draft.issued_on,
                description=line.description,
                quantity=line.quantity,
                unit_cents=line.unit_cents,
                taxable=line.taxable,
            )
            for line in draft.lines
        ]
    )
    if draft.adjustments:
        await InvoiceAdjustment.bulk_create(
            [
                InvoiceAdjustment(invoice=invoice, kind=a.kind, amount_cents=a.amount_cents, reason=a.reason)
                for a in draft.adjustments
            ]
        )
    await audit.record(
        'invoice.written',
        actor,
        patient_id=patient_id,
        object_type='invoice',
        object_id=invoice.id,
        detail={'number': invoice.number, 'total_cents': totals.total_cents, 'lines': len(draft.lines)},
    )
    return invoice


async def load_invoice(invoice_id: int, patient_id: int | None = None) -> Invoice:
    """One invoice with everything its totals need; another patient's invoice is NotFound, like a missing one."""
    query = Invoice.filter(id=invoice_id)
    if patient_id is not None:
        query = query.filter(patient_id=patient_id)
    invoice = await query.prefetch_related('lines', 'adjustments', 'payments').first()
    if invoice is None:
        raise NotFound('invoice')
    return invoice


async def locked_invoice(invoice_id: int) -> Invoice:
    """Inside a transaction: the invoice row locked (PostgreSQL), so two clerks paying at once both see the
    other's payment before checking the balance. SQLite serializes writers anyway."""
    invoice = await Invoice.select_for_update().get_or_none(id=invoice_id)
    if invoice is None:
        raise NotFound('invoice')
    await invoice.fetch_related('lines', 'adjustments', 'payments')
    return invoice


async def add_adjustment(invoice_id: int, adjustment: AdjustmentDraft, actor: audit.Actor) -> InvoiceAdjustment:
    """A write-off or discount after the fact (e.g. what insurance did not cover and the practice forgoes)."""
    _check_adjustment(adjustment)
    async with in_transaction():
        invoice = await locked_invoice(invoice_id)
        if invoice.is_void:
            raise InvoiceIsVoid(invoice.number)
        totals = totals_of(invoice)
        room = totals.patient_responsibility_cents
        if adjustment.amount_cents > room:
            raise InvalidInvoice(
                f'The adjustment of {format_money(adjustment.amount_cents)} is more than the '
                f'{format_money(room)} the patient is responsible for on invoice {invoice.number}.'
            )
        row = await InvoiceAdjustment.create(
            invoice=invoice, kind=adjustment.kind, amount_cents=adjustment.amount_cents, reason=adjustment.reason
        )
        await audit.record(
            'invoice.adjusted',
            actor,
            patient_id=invoice.patient_id,
            object_type='invoice',
            object_id=invoice.id,
            detail={'kind': adjustment.kind, 'amount_cents': adjustment.amount_cents, 'reason': adjustment.reason},
        )
    await events.publish(invoice.patient_id, events.BILLING)
    return row


async def set_insurance(invoice_id: int, *, expected_cents: int, paid_cents: int, actor: audit.Actor) -> InvoiceTotals:
    """Record what the insurer is expected to pay and what it has paid (the claim's progress)."""
    _check_amount(expected_cents, 'Insurance expected', allow_zero=True)
    _check_amount(paid_cents, 'Insurance paid', allow_zero=True)
    async with in_transaction():
        invoice = await locked_invoice(invoice_id)
        after = await store_insurance(invoice, expected_cents, paid_cents, actor)
    await events.publish(invoice.patient_id, events.BILLING)
    return after


async def store_insurance(invoice: Invoice, expected_cents: int, paid_cents: int, actor: audit.Actor) -> InvoiceTotals:
    """The insurance figures of an invoice whose lines, adjustments and payments are fetched, with the audit row.
    Call inside a transaction; the caller publishes the billing event after commit."""
    if invoice.is_void:
        raise InvoiceIsVoid(invoice.number)
    before = totals_of(invoice)
    invoice.insurance_expected_cents, invoice.insurance_paid_cents = expected_cents, paid_cents
    after = totals_of(invoice)
    if after.patient_responsibility_cents < 0:
        invoice.insurance_expected_cents = before.insurance_expected_cents
        invoice.insurance_paid_cents = before.insurance_paid_cents
        raise InvalidInvoice(
            f'Insurance of {format_money(after.insurance_portion_cents)} plus adjustments is more than the '
            f'invoice total of {format_money(after.total_cents)}.'
        )
    await invoice.save(update_fields=['insurance_expected_cents', 'insurance_paid_cents'])
    await audit.record(
        'invoice.insurance_updated',
        actor,
        patient_id=invoice.patient_id,
        object_type='invoice',
        object_id=invoice.id,
        detail={
            'expected_cents': [before.insurance_expected_cents, expected_cents],
            'paid_cents': [before.insurance_paid_cents, paid_cents],
        },
    )
    return after


def checked_void_reason(reason: str) -> str:
    """The reason for voiding as stored, or InvalidInvoice."""
    reason = _clean(reason, 'reason')
    if not reason:
        raise InvalidInvoice('Please give the reason for voiding the invoice.')
    if len(reason) > VOID_REASON_MAX:
        raise InvalidInvoice(f'Please keep the reason under {VOID_REASON_MAX} characters.')
    return reason


async def void_invoice(invoice_id: int, reason: str, actor: audit.Actor) -> Invoice:
    """Void with a reason: the invoice is kept and shown as void; it no longer counts toward the balance,
    and anything the patient paid on it stays with them as a credit."""
    reason = checked_void_reason(reason)
    async with in_transaction():
        invoice = await locked_invoice(invoice_id)
        await store_void(invoice, reason, actor)
    await events.publish(invoice.patient_id, events.BILLING)
    return invoice


async def store_void(invoice: Invoice, reason: str, actor: audit.Actor) -> None:
    """Mark the invoice void with a checked reason, with the audit row. Call inside a transaction; the caller
    publishes the billing event after commit."""
    if invoice.is_void:
        raise InvoiceIsVoid(invoice.number)
    invoice.voided_at = datetime.now(UTC)
    invoice.void_reason = reason
    await invoice.save(update_fields=['voided_at', 'void_reason'])
    await audit.record(
        'invoice.voided',
        actor,
        patient_id=invoice.patient_id,
        object_type='invoice',
        object_id=invoice.id,
        detail={'number': invoice.number, 'reason': reason},
    )


def sorted_lines(invoice: Invoice) -> list[InvoiceLine]:
    return sorted(invoice.lines, key=lambda line: line.id)


def sorted_payments(invoice: Invoice) -> list[Payment]:
    return sorted(invoice.payments, key=lambda payment: (payment.paid_on, payment.id))


def service_date(line: InvoiceLine, invoice: Invoice) -> date:
    """Lines written before dates of service were recorded fall back to the invoice date."""
    return line.service_date or invoice.issued_on


def sorted_adjustments(invoice: Invoice) -> Sequence[InvoiceAdjustment]:
    return sorted(invoice.adjustments, key=lambda adjustment: adjustment.id)
