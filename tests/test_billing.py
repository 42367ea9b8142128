"""Billing: the balance is the sum of open invoice balances, in cents; invoices show lines and payments."""

import io
from datetime import timedelta

from nicegui.testing import User
from pypdf import PdfReader

from models.audit import AuditEvent
from services import billing
from services.billing import format_money
from services.invoices import AdjustmentDraft, LineDraft
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in
from tests.queries import count_queries


def test_money_is_shown_in_dollars_from_integer_cents():
    assert format_money(123456) == '$1,234.56'
    assert format_money(5) == '$0.05'
    assert format_money(0) == '$0.00'
    assert format_money(-500) == '-$5.00'
    assert format_money(100000001) == '$1,000,000.01'


async def test_balance_is_the_sum_of_open_invoice_balances(db):
    patient = await factories.make_patient()
    other = await factories.make_patient()
    await factories.make_invoice(patient, [('Comprehensive exam', 15000), ('Refraction', 4500)], paid_cents=2500)
    await factories.make_invoice(patient, [('Frames', 12999)])
    await factories.make_invoice(patient, [('Contact lens fitting', 8000)], paid_cents=8000)
    await factories.make_invoice(other, [('Not mine', 99999)])

    summary = await billing.billing_for(patient.id)
    assert summary.balance_cents == 15000 + 4500 - 2500 + 12999
    assert [v.totals.total_cents for v in summary.open_invoices] == [19500, 12999]
    assert [v.totals.total_cents for v in summary.paid_invoices] == [8000]


async def test_billing_runs_the_same_number_of_queries_for_one_or_many_invoices(db):
    patient = await factories.make_patient()
    await factories.make_invoice(patient, [('Exam', 15000)], paid_cents=1000)
    with count_queries() as one:
        await billing.billing_for(patient.id)
    for n in range(10):
        await factories.make_invoice(patient, [('Exam', 15000), ('Lenses', 20000)], paid_cents=n * 100)
    with count_queries() as many:
        summary = await billing.billing_for(patient.id)
    assert len(summary.invoices) == 11
    assert many.count == one.count == 1


async def test_each_invoice_comes_with_its_own_lines_adjustments_and_payments_and_no_other_patients(db):
    patient, other = await factories.make_patient(), await factories.make_patient()
    discount = [AdjustmentDraft('discount', 1000, 'Family discount')]
    first = await factories.make_invoice(patient, [('Exam', 15000), ('Lenses', 20000)], 5000, adjustments=discount)
    second = await factories.make_invoice(patient, [('Frames', 9000)], paid_cents=9000)
    third = await factories.make_invoice(patient, [('Contact lens fitting', 7000)])  # nothing paid or taken off
    await factories.make_invoice(other, [('Exam', 15000)], paid_cents=2000, adjustments=discount)

    with count_queries() as read:
        summary = await billing.billing_for(patient.id)
    assert read.count == 1
    shown = {view.invoice.id: view.invoice for view in summary.invoices}
    assert set(shown) == {first.id, second.id, third.id}
    assert [line.description for line in shown[first.id].lines] == ['Exam', 'Lenses']
    assert [(a.kind, a.amount_cents, a.reason) for a in shown[first.id].adjustments] == [
        ('discount', 1000, 'Family discount')
    ]
    assert [p.amount_cents for p in shown[first.id].payments] == [5000]
    assert [p.amount_cents for p in shown[second.id].payments] == [9000]
    assert (list(shown[third.id].adjustments), list(shown[third.id].payments)) == ([], [])
    assert summary.balance_cents == (35000 - 1000 - 5000) + 7000


async def test_billing_page_shows_balance_open_invoices_and_paid_history(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await factories.make_invoice(
        patient,
        [('Comprehensive exam', 15000), ('Anti-glare lenses', 110000)],
        paid_cents=2500,
        number='INV-OPEN-1',
        due_on=factories.today() + timedelta(days=20),
    )
    await factories.make_invoice(patient, [('Contact lens fitting', 8000)], paid_cents=8000, number='INV-PAID-1')
    await sign_in(user, smtp_server, patient)

    await user.open('/billing')
    await user.should_see('$1,225.00')  # 150.00 + 1,100.00 - 25.00
    await user.should_see('Open invoices')
    await user.should_see('Invoice INV-OPEN-1')
    await user.should_see('Anti-glare lenses')
    await user.should_see('$1,100.00')
    await user.should_see('-$25.00')
    await user.should_see('Paid and past invoices')
    await user.should_see('Invoice INV-PAID-1')
    event = await AuditEvent.get(action='invoice.viewed', patient_id=patient.id)
    assert event.actor_type == 'patient'
    assert len(event.detail['invoice_ids']) == 2


async def test_billing_page_with_nothing_owed(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)
    await user.open('/billing')
    await user.should_see('$0.00')
    await user.should_see('No invoices yet.')
    assert not await AuditEvent.filter(action='invoice.viewed').exists()


async def test_overdue_invoices_come_first_with_insurance_lines_and_a_credit_netted(
    user: User, smtp_server: SmtpServer
):
    patient = await factories.make_active_patient()
    today = factories.today()
    await factories.make_invoice(
        patient,
        [LineDraft('Progressive lenses', 38500, service_date=today - timedelta(days=60))],
        number='INV-LATE',
        issued_on=today - timedelta(days=50),
        due_on=today - timedelta(days=20),
        insurance_expected_cents=10000,
        insurance_paid_cents=6000,
    )
    await factories.make_invoice(patient, [('Exam', 10000)], paid_cents=12000, number='INV-OVER')  # $20 credit
    await sign_in(user, smtp_server, patient)
    await user.open('/billing')
    await user.should_see('Overdue')
    await user.should_see('Insurance paid')
    await user.should_see('-$60.00')
    await user.should_see('Insurance (expected)')
    await user.should_see('-$40.00')
    await user.should_see('$265.00')  # 385 - 100 insurance - 20 credit
    await user.should_see('Your credit')
    cards = sorted(user.find('Invoice').elements, key=lambda element: element.id)  # creation (page) order
    texts = ''.join(getattr(element, 'content', '') for element in cards)
    assert texts.index('INV-LATE') < texts.index('INV-OVER')


async def test_pay_online_links_to_the_practice_payment_page_with_the_invoice_number(
    user: User, smtp_server: SmtpServer
):
    patient = await factories.make_active_patient()
    practice = await patient.practice
    practice.payment_url = 'https://pay.example.com/clearview?ref=portal'
    await practice.save()
    await factories.make_invoice(patient, [('Exam', 10000)], number='INV-PAY-1')
    await sign_in(user, smtp_server, patient)
    await user.open('/billing')
    await user.should_see('Pay online')
    html = ''.join(getattr(e, 'content', '') for e in user.find('Invoice INV-PAY-1').elements)
    assert 'href="https://pay.example.com/clearview?ref=portal&amp;invoice=INV-PAY-1"' in html


async def test_without_a_payment_page_the_practice_phone_is_offered(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await factories.make_invoice(patient, [('Exam', 10000)], number='INV-CALL-1')
    await sign_in(user, smtp_server, patient)
    await user.open('/billing')
    html = ''.join(getattr(e, 'content', '') for e in user.find('Invoice INV-CALL-1').elements)
    assert 'href="tel:5550102000"' in html
    assert 'Pay online' not in html


async def test_the_receipt_pdf_is_the_patients_own_and_its_download_is_audited(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    mine = await factories.make_invoice(patient, [('Comprehensive eye exam', 15000)], paid_cents=15000)
    other = await factories.make_invoice(await factories.make_patient(), [('Someone else', 9900)])
    await sign_in(user, smtp_server, patient)

    response = await user.http_client.get(f'/billing/{mine.id}.pdf')
    assert response.status_code == 200
    assert response.headers['content-type'] == 'application/pdf'
    assert f'receipt-{mine.number}.pdf' in response.headers['content-disposition']
    text = '\n'.join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert patient.full_name in text and 'Comprehensive eye exam' in text and 'Balance due' in text
    event = await AuditEvent.get(action='invoice.downloaded')
    assert (event.actor_type, event.object_id, event.patient_id) == ('patient', mine.id, patient.id)

    for missing in (other.id, 999999):
        refused = await user.http_client.get(f'/billing/{missing}.pdf')
        assert refused.status_code == 404
        assert 'That invoice could not be found.' in refused.text  # on the portal's 404 page
    assert await AuditEvent.filter(action='invoice.downloaded').count() == 1


async def test_billing_page_runs_the_same_number_of_queries_for_one_or_many_invoices(
    user: User, smtp_server: SmtpServer
):
    """Two patients, so the page open for the first does not refresh (and query) while the second's are written."""
    few = await factories.make_active_patient()
    await factories.make_invoice(few, [('Exam', 15000)], paid_cents=1000)
    many_invoices = await factories.make_active_patient()
    for n in range(9):
        await factories.make_invoice(many_invoices, [('Exam', 15000), ('Lenses', 20000)], paid_cents=n * 100)

    await sign_in(user, smtp_server, few)
    with count_queries() as one:
        await user.open('/billing')
    await sign_in(user, smtp_server, many_invoices)
    with count_queries() as many:
        await user.open('/billing')
    await user.should_see('Lenses')
    assert many.count == one.count
