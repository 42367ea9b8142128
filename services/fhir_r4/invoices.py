"""Invoice <-> our invoice (services.invoices, services.payments): lines, insurance, adjustments, payments.

R4's Invoice has no insurance or payment elements and its lineItem no quantity: they travel as extensions
under `EXTENSION` (docs/fhir.md). Every total is derived here as in the console; `totalNet`/`totalGross`
are written on export and only compared (a warning) on import. Status: issued or balanced <-> an open
invoice (balanced when nothing is left to pay), cancelled or entered-in-error <-> void.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from models.billing import PAYMENT_METHODS, Invoice
from models.patient import Patient
from portal.ids import parse_id
from services import audit, invoices, payments
from services.errors import DomainError, NotFound
from services.fhir_r4.common import (
    BASE,
    FhirProblem,
    Warnings,
    ext,
    extension_value,
    identifier_pairs,
    identifiers_of,
    ids_for_identifier,
    matched_record,
    parse,
    reference_id,
    remember_identifiers,
)
from services.invoices import AdjustmentDraft, InvoiceDraft, LineDraft
from services.payments import PaymentInput

RESOURCE_TYPE = 'Invoice'
NUMBER_SYSTEM = BASE + '/sid/invoice-number'
CURRENCY = 'USD'
QUANTITY = ext('invoice-line-quantity')
TAXABLE = ext('invoice-line-taxable')
SERVICE_DATE = ext('invoice-line-service-date')
DUE_DATE = ext('invoice-due-date')
TAX_PERCENT = ext('invoice-tax-percent')
INSURANCE_EXPECTED = ext('invoice-insurance-expected')
INSURANCE_PAID = ext('invoice-insurance-paid')
ADJUSTMENT = ext('invoice-adjustment')  # complex: kind, amount, reason
PAYMENT = ext('invoice-payment')  # complex: kind (payment | refund), amount, date, method, reference
KNOWN_EXTENSIONS = {
    QUANTITY, TAXABLE, SERVICE_DATE, DUE_DATE, TAX_PERCENT, INSURANCE_EXPECTED, INSURANCE_PAID, ADJUSTMENT, PAYMENT,
}  # fmt: skip
OPEN, VOID = ('issued', 'balanced'), ('cancelled', 'entered-in-error')


def _money(cents: int) -> dict[str, Any]:
    return {'value': float(Decimal(cents) / 100), 'currency': CURRENCY}


def _cents(money: Any, where: str) -> int:
    if money is None or money.value is None:
        raise FhirProblem(422, f'{where} needs an amount.', where, 'required')
    if money.currency not in (None, CURRENCY):
        raise FhirProblem(422, f'{where}: amounts are in {CURRENCY} here, not {money.currency}.', where)
    try:
        cents = Decimal(money.value) * 100
    except InvalidOperation:
        raise FhirProblem(422, f'{where} is not an amount.', where) from None
    if cents != cents.to_integral_value():
        raise FhirProblem(422, f'{where}: {money.value} has fractions of a cent.', where)
    return int(cents)


def to_fhir(invoice: Invoice, identifiers: list[dict[str, str]]) -> dict[str, Any]:
    """One invoice with lines, adjustments and payments prefetched."""
    totals = invoices.totals_of(invoice)
    extensions: list[dict[str, Any]] = [{'url': TAX_PERCENT, 'valueDecimal': float(invoice.tax_percent)}]
    if invoice.due_on:
        extensions.append({'url': DUE_DATE, 'valueDate': invoice.due_on.isoformat()})
    extensions.append({'url': INSURANCE_EXPECTED, 'valueMoney': _money(invoice.insurance_expected_cents)})
    extensions.append({'url': INSURANCE_PAID, 'valueMoney': _money(invoice.insurance_paid_cents)})
    for adjustment in sorted(invoice.adjustments, key=lambda a: a.id):
        parts = [
            {'url': 'kind', 'valueCode': adjustment.kind},
            {'url': 'amount', 'valueMoney': _money(adjustment.amount_cents)},
        ]
        if adjustment.reason:
            parts.append({'url': 'reason', 'valueString': adjustment.reason})
        extensions.append({'url': ADJUSTMENT, 'extension': parts})
    for payment in sorted(invoice.payments, key=lambda p: p.id):
        parts = [
            {'url': 'kind', 'valueCode': payment.kind},
            {'url': 'amount', 'valueMoney': _money(payment.amount_cents)},
            {'url': 'date', 'valueDate': payment.paid_on.isoformat()},
            {'url': 'method', 'valueCode': payment.method},
        ]
        if payment.reference:
            parts.append({'url': 'reference', 'valueString': payment.reference})
        extensions.append({'url': PAYMENT, 'extension': parts})
    resource: dict[str, Any] = {
        'resourceType': RESOURCE_TYPE,
        'id': str(invoice.id),
        'extension': extensions,
        'identifier': [{'system': NUMBER_SYSTEM, 'value': invoice.number}, *identifiers],
    }
    if invoice.is_void:
        resource['status'] = 'cancelled'
        resource['cancelledReason'] = invoice.void_reason
    else:
        resource['status'] = 'balanced' if totals.balance_cents <= 0 else 'issued'
    resource['subject'] = {'reference': f'Patient/{invoice.patient_id}'}  # type: ignore[attr-defined]
    resource['date'] = invoice.issued_on.isoformat()
    if invoice.provider_id is not None:  # type: ignore[attr-defined]
        resource['participant'] = [{'actor': {'reference': f'Practitioner/{invoice.provider_id}'}}]  # type: ignore[attr-defined]
    resource['lineItem'] = [
        {
            'extension': [
                {'url': QUANTITY, 'valueInteger': line.quantity},
                {'url': TAXABLE, 'valueBoolean': line.taxable},
                {'url': SERVICE_DATE, 'valueDate': (line.service_date or invoice.issued_on).isoformat()},
            ],
            'sequence': index,
            'chargeItemCodeableConcept': {'text': line.description},
            'priceComponent': [{'type': 'base', 'amount': _money(line.unit_cents)}],
        }
        for index, line in enumerate(invoices.sorted_lines(invoice), start=1)
    ]
    resource['totalNet'] = _money(totals.subtotal_cents)
    resource['totalGross'] = _money(totals.total_cents)
    return resource


async def _loaded(invoice_id: int) -> Invoice:
    return await invoices.load_invoice(invoice_id)


async def read(invoice_id: int) -> dict[str, Any]:
    invoice = await _loaded(invoice_id)
    return to_fhir(invoice, (await identifiers_of(RESOURCE_TYPE, [invoice.id])).get(invoice.id, []))


async def search(params: dict[str, str], limit: int) -> list[dict[str, Any]]:
    query = Invoice.all()
    if 'patient' in params:
        query = query.filter(patient_id=parse_id(params['patient'].rpartition('/')[2]) or 0)
    if 'identifier' in params:
        token = params['identifier']
        system, bar, value = token.partition('|')
        ids = await ids_for_identifier(RESOURCE_TYPE, token)
        if not bar or system == NUMBER_SYSTEM:
            ids += list(await Invoice.filter(number=value if bar else token).values_list('id', flat=True))  # type: ignore[arg-type]
        query = query.filter(id__in=ids)
    if '_id' in params:
        query = query.filter(id=parse_id(params['_id']) or 0)
    if 'date' in params:
        text = params['date']
        prefixes = {'eq': '', 'ge': '__gte', 'le': '__lte', 'gt': '__gt', 'lt': '__lt'}
        prefix, value = (text[:2], text[2:]) if text[:2] in prefixes else ('eq', text)
        try:
            query = query.filter(**{f'issued_on{prefixes[prefix]}': date.fromisoformat(value[:10])})
        except ValueError:
            raise FhirProblem(400, 'date must be a date, such as ge2025-01-01.', 'date') from None
    rows = await query.order_by('issued_on', 'id').limit(limit).prefetch_related('lines', 'adjustments', 'payments')
    found = await identifiers_of(RESOURCE_TYPE, [i.id for i in rows])
    return [to_fhir(i, found.get(i.id, [])) for i in rows]


def _sub(extension: Any, name: str, kind: str) -> Any:
    return extension_value(extension.extension, name, kind)


def _draft(model: Any, warnings: Warnings, resolved: dict[str, str]) -> tuple[InvoiceDraft, list[Any], int]:
    where = RESOURCE_TYPE
    patient_id = reference_id(model.subject, 'Patient', f'{where}.subject', resolved)
    provider_id = None
    for index, participant in enumerate(model.participant or []):
        provider_id = reference_id(participant.actor, 'Practitioner', f'{where}.participant[{index}].actor', resolved)
        break
    if model.date is None:
        raise FhirProblem(422, f'{where}.date is required: the invoice date.', f'{where}.date', 'required')
    issued = model.date.date() if hasattr(model.date, 'date') and callable(model.date.date) else model.date
    lines = []
    for index, item in enumerate(model.lineItem or []):
        at = f'{where}.lineItem[{index}]'
        concept = item.chargeItemCodeableConcept
        if concept is None:
            raise FhirProblem(
                422, f'{at}.chargeItemCodeableConcept needs the description.', f'{at}.chargeItemCodeableConcept'
            )
        description = concept.text or next((c.display for c in concept.coding or [] if c.display), '')
        bases = [p for p in item.priceComponent or [] if p.type == 'base']
        others = [p for p in item.priceComponent or [] if p.type not in ('base', 'tax', 'informational')]
        if len(bases) != 1 or others:
            raise FhirProblem(
                422,
                f'{at}.priceComponent: one base price per line (discounts go in {ADJUSTMENT}).',
                f'{at}.priceComponent',
            )
        quantity = extension_value(item.extension, QUANTITY, 'valueInteger')
        lines.append(
            LineDraft(
                description=description,
                unit_cents=_cents(bases[0].amount, f'{at}.priceComponent[0].amount'),
                quantity=1 if quantity is None else int(quantity),
                taxable=bool(extension_value(item.extension, TAXABLE, 'valueBoolean')),
                service_date=extension_value(item.extension, SERVICE_DATE, 'valueDate'),
            )
        )
    adjustments = []
    payment_list = []
    for index, extension in enumerate(model.extension or []):
        at = f'{where}.extension[{index}]'
        if extension.url == ADJUSTMENT:
            adjustments.append(
                AdjustmentDraft(
                    kind=_sub(extension, 'kind', 'valueCode') or '',
                    amount_cents=_cents(_sub(extension, 'amount', 'valueMoney'), f'{at}.amount'),
                    reason=_sub(extension, 'reason', 'valueString') or '',
                )
            )
        elif extension.url == PAYMENT:
            kind = _sub(extension, 'kind', 'valueCode') or 'payment'
            if kind not in ('payment', 'refund'):
                raise FhirProblem(422, f'{at}: kind is payment or refund.', at)
            method = _sub(extension, 'method', 'valueCode') or 'other'
            if method not in PAYMENT_METHODS:
                raise FhirProblem(422, f'{at}: method is one of {", ".join(PAYMENT_METHODS)}.', at)
            paid_on = _sub(extension, 'date', 'valueDate')
            if paid_on is None:
                raise FhirProblem(422, f'{at}: the payment needs its date.', at, 'required')
            payment_list.append(
                (kind, PaymentInput(
                    amount_cents=_cents(_sub(extension, 'amount', 'valueMoney'), f'{at}.amount'),
                    paid_on=paid_on,
                    method=method,
                    reference=_sub(extension, 'reference', 'valueString') or '',
                ))
            )  # fmt: skip
    expected = extension_value(model.extension, INSURANCE_EXPECTED, 'valueMoney')
    paid = extension_value(model.extension, INSURANCE_PAID, 'valueMoney')
    draft = InvoiceDraft(
        issued_on=issued,
        lines=lines,
        due_on=extension_value(model.extension, DUE_DATE, 'valueDate'),
        provider_id=provider_id,
        insurance_expected_cents=_cents(expected, INSURANCE_EXPECTED) if expected else 0,
        insurance_paid_cents=_cents(paid, INSURANCE_PAID) if paid else 0,
        adjustments=adjustments,
    )
    return draft, payment_list, patient_id


def _stored_payments(invoice: Invoice) -> list[tuple[str, PaymentInput]]:
    return [
        (p.kind, PaymentInput(p.amount_cents, p.paid_on, p.method, p.reference))
        for p in sorted(invoice.payments, key=lambda p: p.id)
    ]


def _same_lines(invoice: Invoice, draft: InvoiceDraft) -> bool:
    stored = [
        (line.description, line.unit_cents, line.quantity, line.taxable, line.service_date or invoice.issued_on)
        for line in invoices.sorted_lines(invoice)
    ]
    incoming = [
        (line.description, line.unit_cents, line.quantity, line.taxable, line.service_date or draft.issued_on)
        for line in draft.lines
    ]
    return (
        stored == incoming
        and invoice.issued_on == draft.issued_on
        and invoice.due_on == draft.due_on
        and invoice.provider_id == draft.provider_id  # type: ignore[attr-defined]
    )


async def write(
    body: Any, actor: audit.Actor, record_id: int | None, warnings: Warnings, resolved: dict[str, str]
) -> tuple[int, bool]:
    model = parse(RESOURCE_TYPE, body, KNOWN_EXTENSIONS, warnings)
    if model.status not in OPEN + VOID:
        raise FhirProblem(
            422, f'Invoice.status {model.status!r}: this portal keeps issued, balanced and cancelled invoices.',
            'Invoice.status',
        )  # fmt: skip
    pairs = [
        pair for pair in identifier_pairs(model.identifier, 'Invoice.identifier') if pair[0] != NUMBER_SYSTEM
    ]  # our own numbers are assigned here
    draft, payment_list, patient_id = _draft(model, warnings, resolved)
    patient = await Patient.get_or_none(id=patient_id).select_related('practice')
    if patient is None:
        raise FhirProblem(422, f'Invoice.subject: Patient/{patient_id} does not exist.', 'Invoice.subject')
    rate = extension_value(model.extension, TAX_PERCENT, 'valueDecimal')
    if rate is not None and Decimal(rate) != patient.practice.sales_tax_percent:
        warnings.add(
            TAX_PERCENT, f'The practice tax rate ({patient.practice.sales_tax_percent}%) applies, as in the console.'
        )
    if record_id is None:
        record_id = await matched_record(RESOURCE_TYPE, pairs)
    try:
        if record_id is None:
            invoice = await invoices.write_invoice(patient.id, draft, actor)
            created, stored_payments, stored_adjustments = True, [], 0
            void = False
        else:
            invoice = await _loaded(record_id)
            if invoice.patient_id != patient.id:  # type: ignore[attr-defined]
                raise FhirProblem(
                    409, f'Invoice/{record_id} belongs to another patient.', 'Invoice.subject', 'conflict'
                )
            if not _same_lines(invoice, draft):
                raise FhirProblem(
                    409, 'An invoice is never rewritten: void it (status cancelled) and send a new one.',
                    'Invoice.lineItem', 'conflict',
                )  # fmt: skip
            created, stored_payments = False, _stored_payments(invoice)
            stored_adjustments, void = len(invoice.adjustments), invoice.is_void
            if void and model.status in OPEN:
                raise FhirProblem(409, str(invoices.InvoiceIsVoid(invoice.number)), 'Invoice.status', 'conflict')
            if (invoice.insurance_expected_cents, invoice.insurance_paid_cents) != (
                draft.insurance_expected_cents, draft.insurance_paid_cents,
            ) and not void:  # fmt: skip
                await invoices.set_insurance(
                    invoice.id,
                    expected_cents=draft.insurance_expected_cents,
                    paid_cents=draft.insurance_paid_cents,
                    actor=actor,
                )
            for adjustment in draft.adjustments[stored_adjustments:]:
                await invoices.add_adjustment(invoice.id, adjustment, actor)
        if payment_list[: len(stored_payments)] != stored_payments:
            raise FhirProblem(
                409, 'Payments already recorded cannot change; send new ones after them.', PAYMENT, 'conflict'
            )
        for kind, entry in payment_list[len(stored_payments) :]:
            if kind == 'refund':
                await payments.record_refund(invoice.id, entry, actor)
            else:
                await payments.record_payment(invoice.id, entry, actor, confirm_credit=True)
        if model.status in VOID and not void:
            await invoices.void_invoice(invoice.id, model.cancelledReason or 'Cancelled in the billing system.', actor)
    except (FhirProblem, NotFound):
        raise
    except DomainError as error:
        raise FhirProblem(422, str(error), _element_of(str(error))) from None
    await remember_identifiers(RESOURCE_TYPE, invoice.id, pairs)
    return invoice.id, created


def _element_of(message: str) -> str:
    lowered = message.lower()
    for words, element in (
        (('line',), 'Invoice.lineItem'),
        (('insurance',), INSURANCE_EXPECTED),
        (('refund', 'payment', 'paid'), PAYMENT),
        (('write-off', 'discount', 'adjustment'), ADJUSTMENT),
        (('due date',), DUE_DATE),
        (('provider',), 'Invoice.participant'),
    ):
        if any(word in lowered for word in words):
            return element
    return RESOURCE_TYPE


async def patient_of(record_id: int) -> int | None:
    row = await Invoice.filter(id=record_id).values_list('patient_id', flat=True)
    return row[0] if row else None
