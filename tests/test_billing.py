"""Billing: the balance is the sum of open invoice balances, in cents; invoices show lines and payments."""

from datetime import date, timedelta

from nicegui.testing import User

from models.audit import AuditEvent
from services import billing
from services.billing import format_money
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
    assert many.count == one.count


async def test_billing_page_shows_balance_open_invoices_and_paid_history(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await factories.make_invoice(
        patient,
        [('Comprehensive exam', 15000), ('Anti-glare lenses', 110000)],
        paid_cents=2500,
        number='INV-OPEN-1',
        due_on=date.today() + timedelta(days=20),
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
    await user.should_see('Paid invoices')
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
