"""Billing tab: what the patient owes, the open invoices in full, and the paid ones as history."""

from fastapi.responses import RedirectResponse
from nicegui import ui

from models.billing import Invoice
from pages.patient import router
from pages.patient.frame import frame
from portal.guards import current_patient, patient_actor
from services import billing, patient_portal
from services.billing import format_money
from services.prescriptions import long_date


@router.page('/billing')
async def billing_page() -> RedirectResponse | None:
    account = await current_patient()
    if account is None:
        return RedirectResponse('/login', status_code=303)
    patient = await patient_portal.signed_in_patient(account)
    summary = await billing.billing_for(patient.id)
    await billing.record_view(patient.id, summary, patient_actor(account))
    phone = patient.practice.phone

    with frame('Billing', active='Billing', patient=patient):
        ui.label('Billing').classes('text-h5').props('role=heading aria-level=1')
        with ui.card().classes('w-full q-pa-md gap-1').props('flat bordered'):
            ui.label('Outstanding balance').classes('text-subtitle1')
            ui.label(format_money(summary.balance_cents)).classes('text-h4 text-weight-bold')
            if summary.balance_cents > 0 and phone:
                ui.label(f'To pay or ask about a bill, call {phone}.').classes('text-body2')
            elif summary.balance_cents <= 0:
                ui.label('You have nothing to pay. Thank you!').classes('text-body2')

        if summary.open_invoices:
            ui.label('Open invoices').classes('text-h6 q-mt-md').props('role=heading aria-level=2')
            for invoice in summary.open_invoices:
                _invoice_card(invoice, paid=False)
        if summary.paid_invoices:
            ui.label('Paid invoices').classes('text-h6 q-mt-md').props('role=heading aria-level=2')
            for invoice in summary.paid_invoices:
                _invoice_card(invoice, paid=True)
        if not summary.invoices:
            ui.label('No invoices yet.').classes('text-body1')
    return None


def _invoice_card(invoice: Invoice, *, paid: bool) -> None:
    with ui.card().classes('w-full q-pa-md gap-2').props('flat bordered'):
        with ui.row().classes('w-full items-center justify-between no-wrap'):
            ui.label(f'Invoice {invoice.number}').classes('text-subtitle1 text-weight-bold').props(
                'role=heading aria-level=3'
            )
            ui.badge('Paid' if paid else 'Open', color='positive' if paid else 'orange-9').classes('text-body2 q-px-sm')
        dates = f'Issued {long_date(invoice.issued_on)}'
        if invoice.due_on and not paid:
            dates += f' · due {long_date(invoice.due_on)}'
        ui.label(dates).classes('text-body2 text-grey-9')
        with ui.column().classes('w-full gap-0'):
            for line in sorted(invoice.lines, key=lambda item: item.id):
                label = line.description if line.quantity == 1 else f'{line.description} × {line.quantity}'
                _money_row(label, line.amount_cents)
            _money_row('Total', invoice.total_cents, strong=True)
            for payment in sorted(invoice.payments, key=lambda item: (item.paid_on, item.id)):
                _money_row(
                    f'Payment {long_date(payment.paid_on)} ({payment.method})', -payment.amount_cents, muted=True
                )
            _money_row('Balance', invoice.balance_cents, strong=True)


def _money_row(label: str, cents: int, *, strong: bool = False, muted: bool = False) -> None:
    style = 'text-weight-bold' if strong else 'text-grey-9' if muted else ''
    with ui.row().classes(f'w-full no-wrap justify-between gap-3 q-py-xs text-body2 {style}'):
        ui.label(label).style('min-width: 0; overflow-wrap: anywhere')
        ui.label(format_money(cents)).style('white-space: nowrap; font-variant-numeric: tabular-nums')
