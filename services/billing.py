"""A patient's invoices and balance, shaped for the Billing tab and the profile's Billing section.

Money is integer cents throughout; every figure comes from `services.invoices.totals_of`.
"""

from dataclasses import dataclass
from datetime import date

from models.billing import Invoice
from services import audit
from services.invoices import InvoiceTotals, totals_of
from services.money import format_money

__all__ = ['Billing', 'InvoiceView', 'billing_for', 'format_money', 'record_view']

STATUS_LABELS = {'open': 'Open', 'overdue': 'Overdue', 'paid': 'Paid', 'credit': 'Credit', 'void': 'Void'}


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    totals: InvoiceTotals
    today: date

    @property
    def balance_cents(self) -> int:
        return self.totals.balance_cents

    @property
    def is_open(self) -> bool:
        return not self.invoice.is_void and self.balance_cents > 0

    @property
    def overdue(self) -> bool:
        """Open after its due date, the practice's calendar day deciding (the caller passes that day)."""
        return self.is_open and self.invoice.due_on is not None and self.invoice.due_on < self.today

    @property
    def status(self) -> str:
        if self.invoice.is_void:
            return 'void'
        if self.overdue:
            return 'overdue'
        if self.balance_cents > 0:
            return 'open'
        return 'credit' if self.balance_cents < 0 else 'paid'

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Billing:
    open_invoices: list[InvoiceView]
    other_invoices: list[InvoiceView]  # paid, in credit or void: history, newest first

    @property
    def invoices(self) -> list[InvoiceView]:
        return self.open_invoices + self.other_invoices

    @property
    def balance_cents(self) -> int:
        """What the patient owes after credits: overpayments (and payments on void invoices) net against it."""
        return sum(view.balance_cents for view in self.invoices)

    @property
    def owed_cents(self) -> int:
        return sum(view.balance_cents for view in self.open_invoices)

    @property
    def credit_cents(self) -> int:
        return -sum(view.balance_cents for view in self.other_invoices if view.balance_cents < 0)

    @property
    def paid_invoices(self) -> list[InvoiceView]:
        return [view for view in self.other_invoices if view.status != 'void']


async def billing_for(patient_id: int, today: date | None = None) -> Billing:
    """Open invoices (oldest first: the one to pay next on top), then the rest (newest first).

    `today` is the practice's calendar date (it decides what is overdue). Four queries whatever the
    history: invoices, then their lines, adjustments and payments prefetched.
    """
    today = today or date.today()
    invoices = (
        await Invoice.filter(patient_id=patient_id)
        .prefetch_related('lines', 'adjustments', 'payments')
        .order_by('issued_on', 'id')
    )
    views = [InvoiceView(invoice, totals_of(invoice), today) for invoice in invoices]
    return Billing(
        open_invoices=[view for view in views if view.is_open],
        other_invoices=[view for view in reversed(views) if not view.is_open],
    )


async def record_view(patient_id: int, billing: Billing, actor: audit.Actor) -> None:
    """One audit row per page view naming the invoices shown (one insert, however many invoices)."""
    if not billing.invoices:
        return
    await audit.record(
        'invoice.viewed',
        actor,
        patient_id=patient_id,
        object_type='invoice',
        detail={'invoice_ids': [view.invoice.id for view in billing.invoices]},
    )
