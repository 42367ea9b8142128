"""The receipt / statement PDF of one invoice, in the form an FSA or HSA administrator accepts.

A claim for reimbursement needs: who was paid (the practice, with its tax id), for whom (the patient),
who provided the service (provider with NPI), each service's date, description and amount, what
insurance paid and what the patient paid, and what is still owed. In the PDFs' own typeface
(services/pdf_text.py), like the Rx PDF, so names and descriptions print as typed.
"""

from dataclasses import dataclass
from datetime import date

from fpdf import FPDF
from fpdf.fonts import FontFace

from models.billing import ADJUSTMENT_KINDS, PAYMENT_METHODS, Invoice
from models.patient import Patient
from models.practice import Practice, Provider
from services import audit
from services.errors import NotFound
from services.invoices import InvoiceTotals, service_date, sorted_adjustments, sorted_lines, sorted_payments, totals_of
from services.money import format_money
from services.pdf_text import FAMILY, new_document, printable
from services.prescriptions import long_date


@dataclass(frozen=True)
class ReceiptDocument:
    invoice: Invoice
    totals: InvoiceTotals
    patient: Patient
    practice: Practice
    provider: Provider | None

    @property
    def title(self) -> str:
        """A receipt once nothing is owed; a statement while a balance remains."""
        return 'Receipt' if self.totals.balance_cents <= 0 and not self.invoice.is_void else 'Statement'


async def receipt_document(invoice_id: int, patient_id: int) -> ReceiptDocument:
    """The invoice of this patient with everything the PDF prints; another patient's is NotFound."""
    invoice = (
        await Invoice.filter(id=invoice_id, patient_id=patient_id)
        .select_related('patient__practice', 'provider')
        .prefetch_related('lines', 'adjustments', 'payments')
        .first()
    )
    if invoice is None:
        raise NotFound('invoice')
    patient = invoice.patient
    return ReceiptDocument(invoice, totals_of(invoice), patient, patient.practice, invoice.provider)


async def record_download(document: ReceiptDocument, actor: audit.Actor) -> None:
    await audit.record(
        'invoice.downloaded',
        actor,
        patient_id=document.patient.id,
        object_type='invoice',
        object_id=document.invoice.id,
        detail={'number': document.invoice.number},
    )


def filename(document: ReceiptDocument) -> str:
    return f'{document.title.lower()}-{document.invoice.number}.pdf'


def render(document: ReceiptDocument, today: date) -> bytes:
    """The PDF bytes; `today` is the practice's date, printed as the statement date."""
    invoice, totals, patient, practice, provider = (
        document.invoice,
        document.totals,
        document.patient,
        document.practice,
        document.provider,
    )
    pdf = new_document()
    pdf.set_title(printable(f'{document.title} {invoice.number} - {patient.full_name}'))
    pdf.set_author(printable(practice.name))
    pdf.set_creator('Patient Portal')
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    pdf.set_font(FAMILY, 'B', 16)
    pdf.cell(0, 8, printable(practice.name), new_x='LMARGIN', new_y='NEXT')
    pdf.set_font(FAMILY, '', 10)
    contact = [
        practice.address,
        ' | '.join(p for p in (f'Phone {practice.phone}' if practice.phone else '', _fax(practice)) if p),
        f'Tax ID (EIN): {practice.tax_id}' if practice.tax_id else '',
    ]
    for line in contact:
        if line:
            pdf.cell(0, 5, printable(line), new_x='LMARGIN', new_y='NEXT')
    pdf.ln(4)

    pdf.set_font(FAMILY, 'B', 14)
    heading = f'{document.title} for invoice {invoice.number}'
    pdf.cell(0, 8, printable(heading + (' (VOID)' if invoice.is_void else '')), new_x='LMARGIN', new_y='NEXT')
    pdf.ln(1)
    pairs = [
        ('Patient', patient.full_name),
        ('Date of birth', long_date(patient.date_of_birth)),
        ('Invoice date', long_date(invoice.issued_on)),
    ]
    if invoice.due_on:
        pairs.append(('Due date', long_date(invoice.due_on)))
    pairs.append(('Statement date', long_date(today)))
    if provider:
        pairs.append(('Provider', provider.display_name + (f' (NPI {provider.npi})' if provider.npi else '')))
    if invoice.is_void:
        pairs.append(('Void', invoice.void_reason))
    _pairs(pdf, pairs)
    pdf.ln(3)

    pdf.set_font(FAMILY, '', 10)
    with pdf.table(
        col_widths=(34, 76, 12, 28, 30),
        text_align=('LEFT', 'LEFT', 'RIGHT', 'RIGHT', 'RIGHT'),
        headings_style=FontFace(emphasis='BOLD', fill_color=(235, 235, 235)),
        line_height=6,
    ) as table:
        table.row(('Date of service', 'Description', 'Qty', 'Unit price', 'Amount'))
        for line in sorted_lines(invoice):
            table.row(
                (
                    f'{service_date(line, invoice):%m/%d/%Y}',
                    printable(line.description + (' (taxable)' if line.taxable else '')),
                    str(line.quantity),
                    format_money(line.unit_cents),
                    format_money(line.amount_cents),
                )
            )
    pdf.ln(3)

    rows = [('Subtotal', totals.subtotal_cents)]
    if totals.tax_cents or totals.taxable_cents:
        rows.append((f'Sales tax ({invoice.tax_percent.normalize():f}% of taxable items)', totals.tax_cents))
    rows.append(('Total charges', totals.total_cents))
    rows += [
        (f'{ADJUSTMENT_KINDS.get(a.kind, a.kind)}{": " + a.reason if a.reason else ""}', -a.amount_cents)
        for a in sorted_adjustments(invoice)
    ]
    rows.append(('Insurance paid', -totals.insurance_paid_cents))
    if totals.insurance_pending_cents:
        rows.append(('Insurance pending (expected, not yet paid)', -totals.insurance_pending_cents))
    rows.append(('Patient responsibility', totals.patient_responsibility_cents))
    for payment in sorted_payments(invoice):
        method = PAYMENT_METHODS.get(payment.method, payment.method)
        label = f'{"Refund" if payment.kind == "refund" else "Payment"} {payment.paid_on:%m/%d/%Y} ({method}'
        label += f', ref. {payment.reference})' if payment.reference else ')'
        rows.append((label, -payment.signed_cents))
    rows.append(('Patient paid', totals.patient_paid_cents))
    rows.append(('Balance due' if totals.balance_cents >= 0 else 'Credit', totals.balance_cents))
    for label, cents in rows:
        strong = label in ('Total charges', 'Patient responsibility', 'Patient paid') or label in (
            'Balance due',
            'Credit',
        )
        pdf.set_font(FAMILY, 'B' if strong else '', 10)
        pdf.cell(140, 6, printable(label), align='R')
        pdf.cell(0, 6, format_money(cents), align='R', new_x='LMARGIN', new_y='NEXT')

    pdf.ln(6)
    pdf.set_font(FAMILY, 'I', 8)
    pdf.multi_cell(
        0,
        4,
        align='L',
        text=printable(
            f'Issued by {practice.name} through its patient portal for your records and for FSA/HSA or insurance '
            'reimbursement claims. Amounts in US dollars.'
        ),
    )
    return bytes(pdf.output())


def _fax(practice: Practice) -> str:
    return f'Fax {practice.fax}' if practice.fax else ''


def _pairs(pdf: FPDF, pairs: list[tuple[str, str]]) -> None:
    for label, value in pairs:
        pdf.set_font(FAMILY, 'B', 10)
        pdf.cell(34, 6, printable(label))
        pdf.set_font(FAMILY, '', 10)
        pdf.multi_cell(0, 6, printable(value), align='L', new_x='LMARGIN', new_y='NEXT')
