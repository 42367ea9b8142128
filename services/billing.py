"""A patient's invoices and balance, shaped for the Billing tab and the profile's Billing section.

Money is integer cents throughout; every figure comes from `services.invoices.totals_of`.
"""

from dataclasses import dataclass
from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from models.billing import Invoice, InvoiceAdjustment, InvoiceLine, Payment
from services import audit, joined
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

    `today` is the practice's calendar date (it decides what is overdue). One statement whatever the
    history (`_invoices_of`).
    """
    today = today or date.today()
    invoices = await _invoices_of(patient_id)
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


# The parts of the one statement: each invoice with its lines, then the adjustments, then the payments.
_INVOICE, _ADJUSTMENT, _PAYMENT = 1, 2, 3
_CHILDREN = ((InvoiceLine, 'n', 'lines'), (InvoiceAdjustment, 'j', 'adjustments'), (Payment, 'y', 'payments'))


async def _invoices_of(patient_id: int) -> list[Invoice]:
    """The patient's invoices by issue date, each with its lines, adjustments and payments loaded (as after
    Tortoise's `prefetch_related`), in one statement written once (`services.joined`): Tortoise asked four
    queries on every load of the Billing tab (issue 11)."""
    invoices: dict[int, Invoice] = {}
    children: dict[str, dict[int, list[Model]]] = {name: {} for _, _, name in _CHILDREN}
    rows = await _STATEMENT.rows([patient_id])
    for row in sorted(rows, key=lambda row: row['part']):  # invoices come before their children
        if row['part'] == _INVOICE:
            if row['i_id'] not in invoices:
                invoices[row['i_id']] = joined.build(Invoice, row, 'i')
            if row['n_id'] is not None:
                children['lines'].setdefault(row['i_id'], []).append(joined.build(InvoiceLine, row, 'n'))
            continue
        model, alias, name = _CHILDREN[row['part'] - 1]
        child = joined.build(model, row, alias)
        children[name].setdefault(child.invoice_id, []).append(child)  # type: ignore[attr-defined]
    for invoice_id, invoice in invoices.items():
        for _, _, name in _CHILDREN:
            found = sorted(children[name].get(invoice_id, []), key=lambda child: child.pk)
            getattr(invoice, name)._set_result_for_query(found)
    return sorted(invoices.values(), key=lambda invoice: (invoice.issued_on, invoice.id))


def _statement(connection: BaseDBAsyncClient) -> str:
    """Three parts in a UNION ALL, each naming every part's columns (the others' NULL), through the children's
    index on their invoice."""
    patient = joined.parameter(connection, 1)
    invoices = f'"{Invoice._meta.db_table}" i'

    def columns(*real: tuple[type[Model], str]) -> str:
        every = ((Invoice, 'i'), *((model, alias) for model, alias, _ in _CHILDREN))
        return ', '.join(
            joined.selected(model, alias) if (model, alias) in real else joined.nulls(connection, model, alias)
            for model, alias in every
        )

    parts = [
        f'SELECT {_INVOICE} AS part, {columns((Invoice, "i"), (InvoiceLine, "n"))} FROM {invoices} '
        f'LEFT JOIN "{InvoiceLine._meta.db_table}" n ON n."invoice_id" = i."id" WHERE i."patient_id" = {patient}'
    ]
    for part, (model, alias, _) in ((_ADJUSTMENT, _CHILDREN[1]), (_PAYMENT, _CHILDREN[2])):
        parts.append(
            f'SELECT {part}, {columns((model, alias))} FROM "{model._meta.db_table}" {alias} '
            f'JOIN {invoices} ON i."id" = {alias}."invoice_id" WHERE i."patient_id" = {patient}'
        )
    return ' UNION ALL '.join(parts)


_STATEMENT = joined.Statement(Invoice, _statement)
