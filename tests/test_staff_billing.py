"""The Billing section of the Patient Profile: write invoices, take payments and refunds, void; totals live."""

from decimal import Decimal

from nicegui import ui
from nicegui.testing import User

from models.audit import AuditEvent
from models.billing import Invoice, Payment
from services import billing, invoices
from tests import factories
from tests.portal_user import wait_until
from tests.test_staff_console import open_profile, staff_sign_in


async def test_the_profile_lists_invoices_with_status_and_balance_and_the_view_is_audited(user: User):
    patient = await factories.make_patient()
    await factories.make_invoice(patient, [('Comprehensive eye exam', 15000)], 5000, number='INV-S-1')
    staff = await staff_sign_in(user)
    await open_profile(user, patient)
    await user.should_see('Billing')
    await user.should_see('Balance after credits: $100.00')
    await user.should_see('INV-S-1')
    await user.should_see('Open')
    event = await AuditEvent.filter(action='invoice.viewed', actor_type='staff').first()
    assert event is not None and event.actor_id == staff.id


async def test_staff_write_an_invoice_with_live_totals_from_the_service(user: User):
    practice = await factories.make_practice(sales_tax_percent=Decimal(5))
    await factories.make_provider(practice, npi='1234567893')
    patient = await factories.make_patient(practice)
    await staff_sign_in(user)
    await open_profile(user, patient)
    user.find(kind=ui.button, content='New invoice').click()
    await user.should_see('New invoice for')
    user.find(kind=ui.input, content='Description').type('Frames')
    user.find(kind=ui.input, content='Unit price $').type('200')
    user.find(kind=ui.checkbox, content='Taxable').click()
    await user.should_see('Tax $10.00 · Total $210.00')
    user.find(kind=ui.input, content='Insurance expected $').type('50')
    await user.should_see('Patient responsibility $160.00')
    user.find(kind=ui.button, content='Write invoice').click()

    async def written() -> bool:
        return await Invoice.exists(patient_id=patient.id)

    await wait_until(written)
    stored = await invoices.load_invoice((await Invoice.get(patient_id=patient.id)).id)
    totals = invoices.totals_of(stored)
    assert (totals.total_cents, totals.balance_cents, stored.provider_id is not None) == (21000, 16000, True)
    await user.should_see('Balance after credits: $160.00')


async def test_a_refused_invoice_shows_the_services_sentence(user: User):
    patient = await factories.make_patient()
    await staff_sign_in(user)
    await open_profile(user, patient)
    user.find(kind=ui.button, content='New invoice').click()
    await user.should_see('New invoice for')
    user.find(kind=ui.input, content='Unit price $').type('20')
    user.find(kind=ui.button, content='Write invoice').click()
    await user.should_see('Line 1 needs a description.')
    assert not await Invoice.exists()


async def test_an_overpayment_is_refused_until_the_credit_is_confirmed(user: User):
    patient = await factories.make_patient()
    invoice = await factories.make_invoice(patient, [('Exam', 10000)], number='INV-OVER-1')
    await staff_sign_in(user)
    await open_profile(user, patient)
    user.find(kind=ui.button, content='Record payment').click()
    await user.should_see('Record a payment on invoice')
    amount = user.find(marker='payment-amount')
    amount.clear()
    amount.type('125')
    user.find(marker='payment-save').click()
    await user.should_see('Confirm to keep $25.00 as a credit')
    assert not await Payment.exists()
    user.find(marker='confirm-credit').click()
    user.find(marker='payment-save').click()

    async def paid() -> bool:
        return await Payment.exists(invoice_id=invoice.id)

    await wait_until(paid)
    assert (await billing.billing_for(patient.id)).credit_cents == 2500
    await user.should_see('Credit')


async def test_a_zero_payment_is_refused_with_a_clear_message(user: User):
    patient = await factories.make_patient()
    await factories.make_invoice(patient, [('Exam', 10000)])
    await staff_sign_in(user)
    await open_profile(user, patient)
    user.find(kind=ui.button, content='Record payment').click()
    await user.should_see('Record a payment on invoice')
    amount = user.find(marker='payment-amount')
    amount.clear()
    amount.type('0')
    user.find(marker='payment-save').click()
    await user.should_see('The payment must be more than $0.00.')


async def test_staff_void_an_invoice_with_a_reason_and_it_shows_as_void(user: User):
    patient = await factories.make_patient()
    invoice = await factories.make_invoice(patient, [('Frames entered twice', 24900)])
    await staff_sign_in(user)
    await open_profile(user, patient)
    user.find(kind=ui.button, content='Void').click()
    await user.should_see('Void invoice')
    user.find(marker='void-reason').type('Entered twice')
    user.find(marker='void-save').click()

    async def voided() -> bool:
        return (await Invoice.get(id=invoice.id)).is_void

    await wait_until(voided)
    await user.should_see('Void: Entered twice')
    await user.should_see('Balance after credits: $0.00')
