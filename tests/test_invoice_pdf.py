"""The receipt PDF carries everything an FSA/HSA administrator asks for, read back from the PDF itself."""

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from services import audit, invoice_pdf, invoices, payments
from services.errors import NotFound
from services.invoices import AdjustmentDraft, InvoiceDraft, LineDraft
from services.payments import PaymentInput
from tests import factories


def pdf_text(data: bytes) -> str:
    assert data.startswith(b'%PDF')
    return '\n'.join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def make_receipt_case():
    """A taxed, insured, part-paid invoice with a discount: every figure of the receipt is exercised."""
    practice = await factories.make_practice(tax_id='01-2345678', fax='(555) 010-2001', sales_tax_percent=Decimal(5))
    provider = await factories.make_provider(practice, name='Dana Whitfield', npi='1234567893')
    patient = await factories.make_patient(practice, first_name='Robin', last_name='Claimant')
    invoice = await invoices.write_invoice(
        patient.id,
        InvoiceDraft(
            issued_on=date(2026, 3, 10),
            due_on=date(2026, 4, 9),
            provider_id=provider.id,
            lines=[
                LineDraft('Comprehensive eye exam', 15000, service_date=date(2026, 3, 2)),
                LineDraft('Progressive lenses', 38500, service_date=date(2026, 3, 9), taxable=True),
            ],
            insurance_expected_cents=20000,
            insurance_paid_cents=12000,
            adjustments=[AdjustmentDraft('discount', 1000, 'Second pair')],
        ),
        audit.SYSTEM,
    )
    await payments.record_payment(invoice.id, PaymentInput(5000, date(2026, 3, 10), 'hsa_fsa', 'A-77'), audit.SYSTEM)
    return patient, invoice


async def test_the_receipt_names_practice_tax_id_patient_provider_npi_each_service_and_the_money(db):
    patient, invoice = await make_receipt_case()
    document = await invoice_pdf.receipt_document(invoice.id, patient.id)
    text = pdf_text(invoice_pdf.render(document, today=date(2026, 3, 20)))

    for expected in (
        'Clearview Eye Care',
        'Tax ID (EIN): 01-2345678',
        'Robin Claimant',
        'Dana Whitfield, OD (NPI 1234567893)',
        f'Statement for invoice {invoice.number}',
        '03/02/2026',
        'Comprehensive eye exam',
        '$150.00',
        '03/09/2026',
        'Progressive lenses',
        '$385.00',
        'Sales tax (5% of taxable items)',
        '$19.25',
        'Total charges',
        '$554.25',
        'Discount: Second pair',
        'Insurance paid',
        '-$120.00',
        'Insurance pending',
        '-$80.00',
        'Patient responsibility',
        '$344.25',  # 554.25 - 10.00 - 200.00
        'Payment 03/10/2026 (HSA/FSA card, ref. A-77)',
        'Patient paid',
        '$50.00',
        'Balance due',
        '$294.25',
    ):
        assert expected in text, expected
    assert invoice_pdf.filename(document) == f'statement-{invoice.number}.pdf'


async def test_a_paid_invoice_prints_as_a_receipt_and_another_patients_invoice_is_not_found(db):
    patient = await factories.make_patient()
    invoice = await factories.make_invoice(patient, [('Exam', 9000)], 9000)
    document = await invoice_pdf.receipt_document(invoice.id, patient.id)
    assert document.title == 'Receipt'
    assert 'Balance due\n$0.00' in pdf_text(invoice_pdf.render(document, today=factories.today())).replace(' $', '\n$')
    stranger = await factories.make_patient()
    with pytest.raises(NotFound):
        await invoice_pdf.receipt_document(invoice.id, stranger.id)


async def test_the_patient_s_name_and_the_line_descriptions_print_as_typed(db):
    patient = await factories.make_patient(first_name='Zoë', last_name='Şahin Ørsted')
    invoice = await factories.make_invoice(patient, [('Verres progressifs – « Varilux »', 9000)])
    text = pdf_text(invoice_pdf.render(await invoice_pdf.receipt_document(invoice.id, patient.id), factories.today()))
    assert 'Zoë Şahin Ørsted' in text and 'Verres progressifs – « Varilux »' in text
