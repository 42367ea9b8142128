"""Billing tab: the balance after credits, open invoices first (overdue marked), then the history.

Each invoice shows its lines, insurance portion, adjustments and payments, a receipt / statement PDF
(`/billing/{id}.pdf`, audited, the patient's own invoices only) and a way to pay: the practice's payment
page with the invoice number when it has one, its phone otherwise. The tab follows the patient's billing
events, so a payment recorded at the front desk shows here without a reload.
"""

import asyncio
from html import escape
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from models.billing import ADJUSTMENT_KINDS, PAYMENT_METHODS
from models.practice import Practice
from pages.access import PatientViewer
from pages.entry.not_found import not_found_page
from pages.patient import blocks, icons, router
from pages.patient.page import download_viewer, login_url, patient_page
from pages.theme import add_style
from services import billing, events, invoice_pdf, invoices
from services.appointments import today_in
from services.billing import Billing, InvoiceView
from services.errors import NotFound
from services.money import format_money
from services.phones import dial_string
from services.prescriptions import long_date

BADGES = {'open': 'open', 'overdue': 'overdue', 'paid': 'paid', 'credit': 'paid', 'void': 'void'}
CSS = """
.pp-badge.overdue { background: #b3261e; }
.pp-badge.void { background: #616161; }
.pp-section { font-weight: 600; font-size: .875rem; margin-top: 4px; }
.pp-void { color: #424242; font-size: .875rem; }
"""


def payment_link(practice: Practice, number: str) -> str:
    """The practice's hosted payment page, told which invoice is being paid."""
    url = practice.payment_url
    return f'{url}{"&" if "?" in url else "?"}invoice={quote(number)}'


# Registered before the page so `/billing/5.pdf` is always the download.
@router.get('/billing/{invoice_id:id}.pdf', response_model=None)
async def invoice_pdf_download(request: Request, invoice_id: int) -> Response:
    viewer = await download_viewer()
    if viewer is None:
        return RedirectResponse(login_url(), status_code=303)
    try:
        document = await invoice_pdf.receipt_document(invoice_id, viewer.patient.id)
    except NotFound as error:  # another patient's invoice answers exactly like a missing one
        return await not_found_page(request, str(error))
    content = await asyncio.to_thread(invoice_pdf.render, document, today_in(viewer.practice.time_zone))
    await invoice_pdf.record_download(document, viewer.actor)
    return Response(
        content,
        media_type='application/pdf',
        headers={
            'Content-Disposition': f'attachment; filename="{invoice_pdf.filename(document)}"',
            'Cache-Control': 'no-store',
        },
    )


@patient_page('/billing', title='Billing', tab='Billing')
async def billing_page(viewer: PatientViewer) -> None:
    patient, practice = viewer.patient, viewer.practice
    summary = await billing.billing_for(patient.id, today_in(practice.time_zone))
    await billing.record_view(patient.id, summary, viewer.actor)
    blocks.use_css()
    add_style(CSS)
    ui.label('Billing').classes('text-h5').props('role=heading aria-level=1')

    @ui.refreshable
    def content(summary: Billing) -> None:
        _balance_card(summary, practice)
        if summary.open_invoices:
            ui.label('Open invoices').classes('text-h6 q-mt-md').props('role=heading aria-level=2')
            for view in summary.open_invoices:
                _invoice_card(view, practice)
        if summary.other_invoices:
            ui.label('Paid and past invoices').classes('text-h6 q-mt-md').props('role=heading aria-level=2')
            for view in summary.other_invoices:
                _invoice_card(view, practice)
        if not summary.invoices:
            ui.label('No invoices yet.').classes('text-body1')

    content(summary)

    async def on_change(event: events.Event) -> None:
        if event.topic == events.BILLING:
            fresh = await billing.billing_for(patient.id, today_in(practice.time_zone))
            await billing.record_view(patient.id, fresh, viewer.actor)
            content.refresh(fresh)

    unsubscribe = events.subscribe(patient.id, on_change)
    ui.context.client.on_delete(unsubscribe)


def _balance_card(summary: Billing, practice: Practice) -> None:
    balance = summary.balance_cents
    rows = ''
    if summary.credit_cents and summary.owed_cents:
        rows = blocks.money_row('Open invoices', format_money(summary.owed_cents)) + blocks.money_row(
            'Your credit', format_money(-summary.credit_cents)
        )
    if balance > 0:
        note = 'Open invoices are listed below, with a way to pay each one.'
    elif balance < 0:
        note = f'You have a credit of {format_money(-balance)}. It will be used toward your next invoice.'
    else:
        note = 'You have nothing to pay. Thank you!'
    blocks.block(
        '<section class="pp-card" aria-label="Balance">'
        '<div class="text-subtitle1">Balance after credits</div>'
        f'<div class="text-h4 text-weight-bold" data-testid="balance">{escape(format_money(max(balance, 0)))}</div>'
        f'{rows}<div class="text-body2">{escape(note)}</div></section>'
    )


def _invoice_card(view: InvoiceView, practice: Practice) -> None:
    invoice, totals = view.invoice, view.totals
    meta = [f'Issued {long_date(invoice.issued_on)}']
    if invoice.due_on and view.is_open:
        meta.append(f'Due {long_date(invoice.due_on)}')
    rows = [
        blocks.money_row(
            f'{invoices.service_date(line, invoice):%m/%d/%Y} · {line.description}'
            + (f' × {line.quantity}' if line.quantity != 1 else ''),
            format_money(line.amount_cents),
        )
        for line in invoices.sorted_lines(invoice)
    ]
    if totals.tax_cents:
        rows.append(
            blocks.money_row(f'Sales tax ({invoice.tax_percent.normalize():f}%)', format_money(totals.tax_cents))
        )
    rows.append(blocks.money_row('Total', format_money(totals.total_cents), 'strong'))
    rows += [
        blocks.money_row(
            ADJUSTMENT_KINDS.get(a.kind, a.kind) + (f': {a.reason}' if a.reason else ''),
            format_money(-a.amount_cents),
            'muted',
        )
        for a in invoices.sorted_adjustments(invoice)
    ]
    if totals.insurance_portion_cents:
        rows.append(blocks.money_row('Insurance paid', format_money(-totals.insurance_paid_cents), 'muted'))
        if totals.insurance_pending_cents:
            rows.append(
                blocks.money_row('Insurance (expected)', format_money(-totals.insurance_pending_cents), 'muted')
            )
    rows.append(blocks.money_row('Your share', format_money(totals.patient_responsibility_cents), 'strong'))
    for payment in invoices.sorted_payments(invoice):
        kind = 'Refund' if payment.kind == 'refund' else 'Payment'
        method = PAYMENT_METHODS.get(payment.method, payment.method)
        rows.append(
            blocks.money_row(
                f'{kind} {long_date(payment.paid_on)} ({method})', format_money(-payment.signed_cents), 'muted'
            )
        )
    label = 'Credit' if totals.balance_cents < 0 else 'Balance'
    rows.append(blocks.money_row(label, format_money(abs(totals.balance_cents)), 'strong'))

    void = ''
    if invoice.is_void:
        void = f'<div class="pp-void">Void: {escape(invoice.void_reason)}. Nothing is owed on this invoice.</div>'
    document = 'Statement' if view.is_open else 'Receipt'
    actions = [blocks.link_button(f'{document} (PDF)', f'/billing/{invoice.id}.pdf', icons.DOWNLOAD, download=True)]
    if view.is_open:
        if practice.payment_url:
            actions.insert(0, blocks.link_button('Pay online', payment_link(practice, invoice.number), icons.PAYMENT))
        elif practice.phone:
            actions.insert(
                0, blocks.link_button(f'Call {practice.phone}', f'tel:{dial_string(practice.phone)}', icons.PHONE)
            )
    number = escape(invoice.number)
    blocks.block(
        f'<section class="pp-card" aria-label="Invoice {number}" data-invoice="{number}">'
        f'<div class="pp-head"><h3 class="text-subtitle1 text-weight-bold">Invoice {number}</h3>'
        f'{blocks.badge(view.status_label, BADGES[view.status])}</div>'
        f'<div class="pp-meta">{"".join(f"<span>{escape(m)}</span>" for m in meta)}</div>{void}'
        f'<div>{"".join(rows)}</div>'
        f'<div class="pp-actions">{"".join(actions)}</div></section>'
    )
