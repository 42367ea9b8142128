"""A patient's invoices and balance, shaped for the Billing tab. Money is integer cents throughout."""

from dataclasses import dataclass
from decimal import Decimal

from models.billing import Invoice
from services import audit


def format_money(cents: int) -> str:
    """$1,234.56 (and -$5.00 for a credit): Decimal only here, at the edge, never for arithmetic."""
    amount = Decimal(abs(cents)) / 100
    return f'{"-" if cents < 0 else ""}${amount:,.2f}'


@dataclass(frozen=True)
class Billing:
    open_invoices: list[Invoice]
    paid_invoices: list[Invoice]

    @property
    def balance_cents(self) -> int:
        return sum(invoice.balance_cents for invoice in self.open_invoices)

    @property
    def invoices(self) -> list[Invoice]:
        return self.open_invoices + self.paid_invoices


async def billing_for(patient_id: int) -> Billing:
    """Open invoices (oldest first: the one to pay next on top) and paid ones (newest first).

    Three queries whatever the history: invoices, then their lines and payments prefetched.
    """
    invoices = (
        await Invoice.filter(patient_id=patient_id).prefetch_related('lines', 'payments').order_by('issued_on', 'id')
    )
    open_invoices = [i for i in invoices if i.balance_cents > 0]
    paid = [i for i in reversed(invoices) if i.balance_cents <= 0]
    return Billing(open_invoices=open_invoices, paid_invoices=paid)


async def record_view(patient_id: int, billing: Billing, actor: audit.Actor) -> None:
    """One audit row per page view naming the invoices shown (one insert, however many invoices)."""
    if not billing.invoices:
        return
    await audit.record(
        'invoice.viewed',
        actor,
        patient_id=patient_id,
        object_type='invoice',
        detail={'invoice_ids': [i.id for i in billing.invoices]},
    )
