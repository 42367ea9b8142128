"""Invoice <-> our invoice: lines with quantity, insurance, adjustments and payments through extensions,
written through the billing services (derived totals, the console's rules), re-sends and refusals."""

import copy
from datetime import timedelta

import pytest

from models.billing import Invoice, Payment
from services import audit, events, invoices
from services.fhir_r4 import invoices as mapping
from services.fhir_r4 import resources
from services.fhir_r4.common import FhirProblem, Warnings
from services.invoices import AdjustmentDraft, LineDraft
from tests import factories

ACTOR = audit.Actor.api_client(1, 'Main EHR')


def money(value: float) -> dict:
    return {'value': value, 'currency': 'USD'}


def payment(amount: float, kind: str = 'payment') -> dict:
    return {
        'url': mapping.PAYMENT,
        'extension': [
            {'url': 'kind', 'valueCode': kind},
            {'url': 'amount', 'valueMoney': money(amount)},
            {'url': 'date', 'valueDate': factories.today().isoformat()},
            {'url': 'method', 'valueCode': 'card'},
        ],
    }


def invoice_body(patient_id: int, **fields: object) -> dict:
    issued = (factories.today() - timedelta(days=5)).isoformat()
    return {
        'resourceType': 'Invoice',
        'identifier': [{'system': 'urn:ehr:invoice', 'value': 'B-900'}],
        'status': 'issued',
        'subject': {'reference': f'Patient/{patient_id}'},
        'date': issued,
        'extension': [
            {'url': mapping.INSURANCE_EXPECTED, 'valueMoney': money(60)},
            {
                'url': mapping.ADJUSTMENT,
                'extension': [
                    {'url': 'kind', 'valueCode': 'discount'},
                    {'url': 'amount', 'valueMoney': money(10)},
                    {'url': 'reason', 'valueString': 'Loyalty'},
                ],
            },
            payment(20),
        ],  # fmt: skip
        'lineItem': [
            {
                'extension': [{'url': mapping.QUANTITY, 'valueInteger': 2}],
                'sequence': 1,
                'chargeItemCodeableConcept': {'text': 'Daily lenses, 90 pack'},
                'priceComponent': [{'type': 'base', 'amount': money(45.5)}],
            },
            {
                'sequence': 2,
                'chargeItemCodeableConcept': {'text': 'Comprehensive eye exam'},
                'priceComponent': [{'type': 'base', 'amount': money(120)}],
            },
        ],
        **fields,
    }


async def write(body: dict) -> tuple[int, bool, Warnings]:
    warnings = Warnings()
    new_id, created = await resources.write('Invoice', body, ACTOR, None, warnings, {})
    return new_id, created, warnings


async def test_our_invoice_maps_insurance_adjustments_payments_and_quantity(db):
    patient = await factories.make_patient()
    invoice = await factories.make_invoice(
        patient,
        [LineDraft('Frames', 15000, quantity=2, taxable=True)],
        paid_cents=5000,
        insurance_expected_cents=10000,
        adjustments=[AdjustmentDraft('write_off', 1000, 'Courtesy')],
    )
    resource = await resources.read('Invoice', invoice.id)
    assert resource['status'] == 'issued' and resource['identifier'][0]['value'] == invoice.number
    line = resource['lineItem'][0]
    assert {'url': mapping.QUANTITY, 'valueInteger': 2} in line['extension']
    assert line['priceComponent'] == [{'type': 'base', 'amount': money(150.0)}]
    urls = [e['url'] for e in resource['extension']]
    assert mapping.INSURANCE_EXPECTED in urls and mapping.ADJUSTMENT in urls and mapping.PAYMENT in urls
    assert resource['totalGross'] == money(
        invoices.totals_of(await invoices.load_invoice(invoice.id)).total_cents / 100
    )


async def test_an_invoice_is_written_through_the_billing_services_and_a_resend_adds_only_what_is_new(db):
    await factories.make_ready_practice()
    patient = await factories.make_patient()
    heard: list[str] = []

    async def handler(event: events.Event) -> None:
        heard.append(event.topic)

    unsubscribe = events.subscribe(patient.id, handler)
    body = invoice_body(patient.id)
    invoice_id, created, warnings = await write(body)
    unsubscribe()
    assert created and not warnings.items and events.BILLING in heard
    stored = await invoices.load_invoice(invoice_id)
    totals = invoices.totals_of(stored)
    assert (totals.subtotal_cents, totals.insurance_expected_cents, totals.adjustments_cents) == (21100, 6000, 1000)
    assert totals.balance_cents == 21100 - 6000 - 1000 - 2000

    again, created, _ = await write(copy.deepcopy(body))
    assert (again, created) == (invoice_id, False) and await Payment.all().count() == 1
    more = copy.deepcopy(body)
    more['extension'].append(payment(30))
    await write(more)
    assert await Payment.filter(invoice_id=invoice_id).count() == 2

    await write({**more, 'status': 'cancelled', 'cancelledReason': 'Billed twice'})
    stored = await Invoice.get(id=invoice_id)
    assert stored.is_void and stored.void_reason == 'Billed twice'
    assert (await resources.read('Invoice', invoice_id))['status'] == 'cancelled'


@pytest.mark.parametrize(
    ('change', 'element'),
    [
        (lambda b: b.update(status='draft'), 'Invoice.status'),
        (lambda b: b['lineItem'][0]['priceComponent'][0]['amount'].update(value=1.005),
         'Invoice.lineItem[0].priceComponent[0].amount'),
        (lambda b: b['lineItem'][0]['priceComponent'][0]['amount'].update(currency='EUR'),
         'Invoice.lineItem[0].priceComponent[0].amount'),
        (lambda b: b['lineItem'][0]['extension'][0].update(valueInteger=0), 'Invoice.lineItem'),
        (lambda b: b['extension'][0]['valueMoney'].update(value=500), mapping.INSURANCE_EXPECTED),
        (lambda b: b.update(subject={'reference': 'Patient/999'}), 'Invoice.subject'),
        (lambda b: b['lineItem'][0].update(modifierExtension=[{'url': 'http://x', 'valueBoolean': True}]),
         'Invoice.lineItem[0].modifierExtension'),
    ],
)  # fmt: skip
async def test_what_cannot_be_mapped_or_breaks_a_billing_rule_is_refused_naming_the_element(db, change, element):
    await factories.make_ready_practice()
    patient = await factories.make_patient()
    body = invoice_body(patient.id)
    change(body)
    with pytest.raises(FhirProblem) as caught:
        await write(body)
    assert caught.value.expression == element and 400 <= caught.value.status < 500, caught.value
    assert not await Invoice.exists()


async def test_a_changed_line_is_refused_rather_than_rewriting_an_invoice(db):
    await factories.make_ready_practice()
    patient = await factories.make_patient()
    body = invoice_body(patient.id)
    await write(body)
    body['lineItem'][1]['priceComponent'][0]['amount']['value'] = 99
    with pytest.raises(FhirProblem) as caught:
        await write(body)
    assert caught.value.status == 409 and caught.value.expression == 'Invoice.lineItem'
