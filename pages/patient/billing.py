"""Billing tab: what the patient owes, the open invoices in full, and the paid ones as history."""

from html import escape

from nicegui import ui

from pages.access import PatientViewer
from pages.patient import blocks
from pages.patient.page import patient_page
from services import billing
from services.billing import InvoiceView, format_money
from services.prescriptions import long_date


@patient_page('/billing', title='Billing', tab='Billing')
async def billing_page(viewer: PatientViewer) -> None:
    patient = viewer.patient
    summary = await billing.billing_for(patient.id)
    await billing.record_view(patient.id, summary, viewer.actor)
    phone = patient.practice.phone

    ui.label('Billing').classes('text-h5').props('role=heading aria-level=1')
    with ui.card().classes('w-full q-pa-md gap-1').props('flat bordered'):
        ui.label('Outstanding balance').classes('text-subtitle1')
        ui.label(format_money(summary.balance_cents)).classes('text-h4 text-weight-bold')
        if summary.balance_cents > 0 and phone:
            ui.label(f'To pay or ask about a bill, call {phone}.').classes('text-body2')
        elif summary.balance_cents <= 0:
            ui.label('You have nothing to pay. Thank you!').classes('text-body2')

    blocks.use_css()
    if summary.open_invoices:
        ui.label('Open invoices').classes('text-h6 q-mt-md').props('role=heading aria-level=2')
        for view in summary.open_invoices:
            _invoice_card(view, paid=False)
    if summary.other_invoices:
        ui.label('Paid invoices').classes('text-h6 q-mt-md').props('role=heading aria-level=2')
        for view in summary.other_invoices:
            _invoice_card(view, paid=True)
    if not summary.invoices:
        ui.label('No invoices yet.').classes('text-body1')


def _invoice_card(view: InvoiceView, *, paid: bool) -> None:
    invoice, totals = view.invoice, view.totals
    dates = f'Issued {long_date(invoice.issued_on)}'
    if invoice.due_on and not paid:
        dates += f' · due {long_date(invoice.due_on)}'
    rows = [
        blocks.money_row(
            line.description if line.quantity == 1 else f'{line.description} × {line.quantity}',
            format_money(line.amount_cents),
        )
        for line in sorted(invoice.lines, key=lambda item: item.id)
    ]
    rows.append(blocks.money_row('Total', format_money(totals.total_cents), 'strong'))
    rows += [
        blocks.money_row(
            f'Payment {long_date(payment.paid_on)} ({payment.method})', format_money(-payment.amount_cents), 'muted'
        )
        for payment in sorted(invoice.payments, key=lambda item: (item.paid_on, item.id))
    ]
    rows.append(blocks.money_row('Balance', format_money(totals.balance_cents), 'strong'))
    blocks.block(
        f'<section class="pp-card" aria-label="Invoice {escape(invoice.number)}">'
        f'<div class="pp-head"><h3 class="text-subtitle1 text-weight-bold">Invoice {escape(invoice.number)}</h3>'
        f'{blocks.badge("Paid", "paid") if paid else blocks.badge("Open", "open")}</div>'
        f'<div class="pp-meta">{escape(dates)}</div>'
        f'<div>{"".join(rows)}</div></section>'
    )
