"""Invoice rows: the practice's bills from its previous system, with what was paid, attached to patients on file.

The file has one row per invoice line; the rows of one invoice share its number (the source's id, and the
key that makes a second import find the invoice again) and repeat, or leave blank, the invoice's own
columns (chart number, date, amount paid, status). An invoice the old system only knows as a total is one
row whose description says so ("Balance from previous system"). The rows of one invoice need not be next
to each other: the whole file is grouped first, and an invoice is planned, written and counted once, at its
first row. One bad row refuses its whole invoice (the reason names the row), never the other invoices.

Each invoice goes through the console's rules: `validate_draft` (lines, quantities, prices, the practice's
tax rate copied on), `insert_invoice` (numbered like every invoice, INV-00042; the source's number is kept
as the invoice's source identifier, which the FHIR API shows), the amount paid as one payment
(`insert_payment`, so the balance is derived like any other), and void through `store_void`. Money is read
strictly: "$1,234.50" is an amount, "12.345" and "12,50" are refused, never rounded or guessed.

Status: open (blank, issued, unpaid ...), paid (the amount paid then defaults to what the patient owed;
a smaller amount paid is refused as a contradiction), void. A later file may add payments (a larger
amount paid), change the insurance paid, or void the invoice; it never rewrites lines or takes a payment
back (refused, saying what to do in the portal instead), as the FHIR API refuses it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from models.api_client import ExternalIdentifier
from models.billing import PAYMENT_METHODS, Invoice
from models.practice import Practice
from services import audit, events, invoices, payments
from services.csv_import import records
from services.csv_import.records import RowRefused, parse_cents, parse_count, parse_day, parse_yes_no
from services.csv_import.rows import CHART_NUMBER_ALIASES, Action, Field, RowPlan
from services.errors import DomainError
from services.invoices import InvoiceDraft, InvoiceTotals, LineDraft
from services.money import format_money
from services.patients import fold
from services.payments import PaymentInput

KIND = 'Invoice'  # the source-id kind, as the FHIR API names it
VOID_REASON = "Void in the practice's previous system."
PAYMENT_REFERENCE = 'Paid before the portal (CSV import)'
NUMBER_MAX = 200

LABEL = 'Invoices'
ACTION_LABELS = {
    Action.CREATE: 'New invoice',
    Action.UPDATE: 'Update',
    Action.UNCHANGED: 'No change',
    Action.REFUSED: 'Refused',
    Action.HELD: 'Held for review',  # never: an invoice names its patient by chart number
}
FIELDS = (
    Field('chart_number', 'Chart number', True, CHART_NUMBER_ALIASES),
    Field('invoice_number', 'Invoice number', True, ('invoice', 'invoice #', 'invoice no', 'inv #', 'bill #')),
    Field('date', 'Invoice date', True, ('date', 'issued', 'issue date', 'bill date', 'date of service', 'dos')),
    Field('description', 'Description', True, ('item', 'service', 'line item', 'charge', 'product')),
    Field('quantity', 'Quantity', aliases=('qty', 'units', 'count')),
    Field('unit_price', 'Unit price', True, ('price', 'unit cost', 'fee', 'charge amount', 'amount')),
    Field('taxable', 'Taxable', aliases=('tax', 'taxed')),
    Field('amount_paid', 'Amount paid', aliases=('paid', 'patient paid', 'payments', 'total paid')),
    Field('paid_on', 'Payment date', aliases=('paid on', 'date paid', 'paid date')),
    Field('payment_method', 'Payment method', aliases=('method', 'paid by', 'tender')),
    Field('insurance_paid', 'Insurance paid', aliases=('insurance', 'ins paid', 'insurance payment')),
    Field('status', 'Status', aliases=('invoice status', 'state')),
    Field('void_reason', 'Void reason', aliases=('reason voided', 'cancel reason')),
)
# Columns of the invoice itself (every row of an invoice repeats them, or leaves them blank); the rest are the line's.
INVOICE_COLUMNS = (
    'chart_number', 'date', 'amount_paid', 'paid_on', 'payment_method', 'insurance_paid', 'status', 'void_reason',
)  # fmt: skip
TEMPLATE = [
    ['1001', 'A-7001', '2025-01-15', 'Comprehensive eye exam', '1', '$150.00', 'no', '$329.00', '2025-01-15',
     'card', '', 'paid', ''],
    ['1001', 'A-7001', '2025-01-15', 'Frames, "Harbor" titanium', '1', '179.00', 'no', '$329.00', '2025-01-15',
     'card', '', 'paid', ''],
    ['1002', 'A-7002', '02/03/2025', 'Balance from previous system', '1', '45.00', '', '', '', '', '', 'open', ''],
    ['1002', 'A-7003', '02/03/2025', 'Contact lenses, 6-month supply', '2', '$1,020.00', 'yes', '', '', '', '',
     'void', 'Entered twice'],
]  # fmt: skip
STATUS_WORDS = {
    'open': ('open', 'issued', 'unpaid', 'due', 'outstanding', 'partial', 'partially paid', 'billed', 'pending',
             'balance due', 'sent'),
    'paid': ('paid', 'paid in full', 'closed', 'balanced', 'settled', 'complete'),
    'void': ('void', 'voided', 'cancelled', 'canceled', 'deleted', 'entered in error'),
}  # fmt: skip
STATUS_BY_WORD = {fold(word): status for status, words in STATUS_WORDS.items() for word in words}
METHOD_BY_WORD = (
    {fold(label): key for key, label in PAYMENT_METHODS.items()}
    | {fold(key): key for key in PAYMENT_METHODS}
    | {'credit card': 'card', 'debit': 'card', 'visa': 'card', 'mastercard': 'card', 'hsa': 'hsa_fsa', 'fsa': 'hsa_fsa'}
)


@dataclass
class Grouping:
    """The file's invoices: each first row with all the rows of its invoice, and the rows that follow one."""

    rows_of: dict[int, list[tuple[int, dict[str, str]]]]
    follows: dict[int, int]  # row number -> the first row of its invoice


def duplicates(rows: list[tuple[int, dict[str, str]]]) -> Grouping:
    first: dict[str, int] = {}
    grouping = Grouping({}, {})
    for number, values in rows:
        key = values.get('invoice_number', '').strip()
        if key and key in first:
            grouping.rows_of[first[key]].append((number, values))
            grouping.follows[number] = first[key]
        else:
            if key:
                first[key] = number
            grouping.rows_of[number] = [(number, values)]
    return grouping


@dataclass
class Prepared:
    """An invoice after the checks that need no database (at its first row), or why it is refused."""

    row_number: int
    values: dict[str, str]
    reason: str = ''
    number: str = ''
    chart: str = ''
    issued_on: date | None = None
    lines: list[LineDraft] = field(default_factory=list)
    paid_cents: int | None = None  # None: the file does not say
    paid_on: date | None = None
    method: str = 'other'
    insurance_cents: int | None = None
    status: str = 'open'
    void_reason: str = ''


def _invoice_value(group: list[tuple[int, dict[str, str]]], name: str, label: str) -> str:
    """The invoice's own column: the same on every row that fills it in."""
    seen: dict[str, int] = {}
    for number, values in group:
        if text := values.get(name, '').strip():
            seen.setdefault(text, number)
    if len(seen) > 1:
        (a, first_row), (b, other_row) = list(seen.items())[:2]
        raise RowRefused(f'Rows {first_row} and {other_row} of this invoice disagree on the {label} ("{a}", "{b}").')
    return next(iter(seen), '')


def _status(text: str) -> str:
    if not text:
        return 'open'
    status = STATUS_BY_WORD.get(fold(text))
    if status is None:
        raise RowRefused(f'The status "{text}" is not one of open, paid or void.')
    return status


def _method(text: str) -> str:
    if not text:
        return 'other'
    method = METHOD_BY_WORD.get(fold(text))
    if method is None:
        raise RowRefused(f'The payment method "{text}" is not one of ' + ', '.join(PAYMENT_METHODS.values()) + '.')
    return method


def prepare_invoice(group: list[tuple[int, dict[str, str]]]) -> Prepared:
    number, values = group[0]
    item = Prepared(number, values, number=values.get('invoice_number', '').strip())
    if not item.number:
        raise RowRefused("The invoice number is missing: it is the previous system's id of the invoice.")
    if len(item.number) > NUMBER_MAX:
        raise RowRefused(f'The invoice number is longer than {NUMBER_MAX} characters.')
    labels = {f.name: f.label.lower() for f in FIELDS}
    own = {name: _invoice_value(group, name, labels[name]) for name in INVOICE_COLUMNS}
    item.chart = own['chart_number']
    item.issued_on = parse_day(own['date'], 'invoice date')
    for row_number, row in group:
        try:
            item.lines.append(
                LineDraft(
                    description=row.get('description', '').strip(),
                    unit_cents=parse_cents(row.get('unit_price', ''), 'unit price'),
                    quantity=parse_count(row.get('quantity', ''), 'quantity', 1),
                    taxable=parse_yes_no(row.get('taxable', ''), 'taxable column'),
                )
            )
        except RowRefused as error:
            raise RowRefused(f'Row {row_number}: {error}') from None
    if own['amount_paid']:
        item.paid_cents = parse_cents(own['amount_paid'], 'amount paid')
    item.paid_on = parse_day(own['paid_on'], 'payment date') if own['paid_on'] else item.issued_on
    item.method = _method(own['payment_method'])
    if own['insurance_paid']:
        item.insurance_cents = parse_cents(own['insurance_paid'], 'insurance paid')
    item.status = _status(own['status'])
    item.void_reason = own['void_reason']
    return item


def prepare(rows: list[tuple[int, dict[str, str]]], grouping: Grouping) -> list[Prepared]:
    """Each invoice whose first row is in `rows`, with all its rows (CPU only: runs in a thread)."""
    prepared = []
    for number, values in rows:
        if number in grouping.follows:
            continue  # planned with its invoice's first row
        group = grouping.rows_of.get(number, [(number, values)])
        try:
            prepared.append(prepare_invoice(group))
        except DomainError as error:
            prepared.append(Prepared(number, values, reason=str(error)))
    return prepared


@dataclass
class InvoicePlan(RowPlan):
    """An invoice's plan: a new one (draft, payment, void), or what changes on the one on file."""

    number: str = ''
    draft: InvoiceDraft | None = None
    totals: InvoiceTotals | None = None
    invoice: Invoice | None = None
    paid_cents: int | None = None  # the patient's payments in all, as the file says
    payment: PaymentInput | None = None
    insurance_cents: int | None = None
    void_reason: str = ''  # void it


async def plan(prepared: list[Prepared]) -> list[InvoicePlan]:
    """What each invoice would do to the billing on file now: four queries for the chunk."""
    valid = [p for p in prepared if not p.reason]
    practice = await Practice.first()
    by_chart = await records.patients_by_chart({p.chart for p in valid} - {''})
    by_source = await records.source_records(KIND, {p.number for p in valid})
    on_file = {
        i.id: i
        for i in await Invoice.filter(id__in=sorted(set(by_source.values()))).prefetch_related(
            'lines', 'adjustments', 'payments'
        )
    }
    plans: list[InvoicePlan] = []
    for item in prepared:
        row = InvoicePlan(item.row_number, Action.CREATE, item.values, number=item.number)
        plans.append(row)
        if item.reason or practice is None:
            row.action, row.reason = Action.REFUSED, item.reason or 'The practice is not set up yet.'
            continue
        try:
            row.patient = records.patient_for(item.chart, by_chart)
            _plan_one(row, item, practice, on_file.get(by_source.get(item.number, 0)))
        except DomainError as error:
            row.action, row.reason, row.patient = Action.REFUSED, f'Invoice {item.number}: {error}', None
    return plans


def _plan_one(row: InvoicePlan, item: Prepared, practice: Practice, invoice: Invoice | None) -> None:
    assert item.issued_on is not None and row.patient is not None
    insurance = item.insurance_cents or 0
    draft = InvoiceDraft(
        issued_on=item.issued_on, lines=item.lines, insurance_expected_cents=insurance, insurance_paid_cents=insurance
    )
    tax_percent = invoice.tax_percent if invoice is not None else practice.sales_tax_percent
    totals = invoices.validate_draft(draft, tax_percent)
    if invoice is not None:
        if invoice.patient_id != row.patient.id:  # type: ignore[attr-defined]
            raise RowRefused('this invoice number is on file for another patient.')
        if not _same_lines(invoice, draft):
            raise RowRefused(
                'the invoice on file has other lines or another date. An invoice is never rewritten: void it in the '
                'portal and import the corrected one under a new number.'
            )
    owed = totals.patient_responsibility_cents
    paid = item.paid_cents
    if item.status == 'paid':
        if paid is None:
            paid = owed
        elif paid < owed:
            raise RowRefused(
                f'it is marked paid, but {format_money(paid)} of the {format_money(owed)} the patient owed was paid. '
                'Give the full amount paid, or mark it open.'
            )
    void_reason = invoices.checked_void_reason(item.void_reason or VOID_REASON) if item.status == 'void' else ''
    if invoice is None:
        row.draft, row.totals, row.void_reason, row.paid_cents = draft, totals, void_reason, paid
        if paid:
            row.payment = _payment(paid, item)
            if paid > owed:
                row.reason = f'{format_money(paid - owed)} more than owed was paid: kept as a credit for the patient.'
        return
    row.invoice, row.action = invoice, Action.UNCHANGED
    if item.insurance_cents is not None and not invoice.is_void and (
        invoice.insurance_expected_cents, invoice.insurance_paid_cents
    ) != (insurance, insurance):  # fmt: skip
        row.insurance_cents = insurance
        row.changed.append('insurance paid')
    recorded = invoices.totals_of(invoice).patient_paid_cents
    if paid is not None and paid < recorded:
        raise RowRefused(
            f'the file says {format_money(paid)} was paid, but {format_money(recorded)} is recorded. An import never '
            'takes a payment back: record the refund on the invoice in the portal.'
        )
    if paid is not None and paid > recorded:
        if invoice.is_void:
            raise invoices.InvoiceIsVoid(invoice.number)
        row.paid_cents, row.payment = paid, _payment(paid - recorded, item)
        row.changed.append('payment')
    if void_reason and not invoice.is_void:
        row.void_reason = void_reason
        row.changed.append('void')
    elif invoice.is_void and item.status != 'void':
        raise invoices.InvoiceIsVoid(invoice.number)
    if row.changed:
        row.action = Action.UPDATE


def _payment(cents: int, item: Prepared) -> PaymentInput:
    assert item.paid_on is not None
    return payments.validated_entry(PaymentInput(cents, item.paid_on, item.method, PAYMENT_REFERENCE), 'payment')


def _same_lines(invoice: Invoice, draft: InvoiceDraft) -> bool:
    stored = [
        (line.description, line.unit_cents, line.quantity, line.taxable) for line in invoices.sorted_lines(invoice)
    ]
    incoming = [(line.description, line.unit_cents, line.quantity, line.taxable) for line in draft.lines]
    return stored == incoming and invoice.issued_on == draft.issued_on


async def apply(plans: list[InvoicePlan], practice: Practice, actor: audit.Actor, stamp: datetime) -> None:
    """Write the planned invoices, payments, insurance and voids through the billing services, with their
    audit rows and source ids. Call inside the chunk's transaction; `after_commit` after it commits."""
    del stamp
    identifiers = []
    for row in plans:
        if row.action == Action.CREATE:
            assert row.patient is not None and row.draft is not None and row.totals is not None
            invoice = await invoices.insert_invoice(
                row.patient.id, row.draft, practice.sales_tax_percent, row.totals, actor
            )
            await invoice.fetch_related('lines', 'adjustments', 'payments')
            identifiers.append(records.source_identifier(KIND, row.number, invoice.id))
            row.invoice = invoice
        elif row.action == Action.UPDATE and row.invoice is not None:
            invoice = await invoices.locked_invoice(row.invoice.id)
            if row.insurance_cents is not None:
                await invoices.store_insurance(invoice, row.insurance_cents, row.insurance_cents, actor)
            if row.payment is not None and row.paid_cents is not None:
                missing = row.paid_cents - invoices.totals_of(invoice).patient_paid_cents  # as locked, not as planned
                row.payment = PaymentInput(missing, row.payment.paid_on, row.payment.method, row.payment.reference)
        else:
            continue
        if row.payment is not None and row.payment.amount_cents > 0:
            await payments.insert_payment(invoice, row.payment, actor)
        if row.void_reason:
            await invoices.store_void(invoice, row.void_reason, actor)
    if identifiers:
        await ExternalIdentifier.bulk_create(identifiers)


async def after_commit(plans: list[InvoicePlan]) -> None:
    """After the chunk commits: each touched patient's open Billing tab shows the new balance."""
    written = {row.patient.id for row in plans if row.patient and row.action in (Action.CREATE, Action.UPDATE)}
    for patient_id in sorted(written):
        await events.publish(patient_id, events.BILLING)
