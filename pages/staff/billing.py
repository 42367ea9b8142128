"""The Billing section of the Patient Profile: invoices with status and balance; write an invoice, record a
payment or refund, void. Every figure, including the live totals of the invoice form, comes from
`services.invoices` (one derivation); refusals show the service's sentence."""

import asyncio
from datetime import date

from nicegui import ui

from models.billing import ADJUSTMENT_KINDS, PAYMENT_METHODS
from models.patient import Patient
from pages.access import StaffViewer
from pages.dialog import ask_reason, titled_dialog
from pages.staff.components import us_date
from services import billing, events, invoices, payments, providers
from services.appointments import today_in
from services.billing import Billing, InvoiceView
from services.errors import DomainError
from services.invoices import AdjustmentDraft, InvoiceDraft, LineDraft
from services.money import InvalidAmount, format_money, parse_money
from services.payments import OverpaymentNeedsConfirmation, PaymentInput

NAMED_BY_CONTENT = ''  # no 'Expand "…"' label: the header's own words name it, as voice control expects
STATUS_COLORS = {'open': 'deep-orange-10', 'overdue': 'red-10', 'paid': 'green-9', 'credit': 'blue-9', 'void': 'grey-8'}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class BillingSection:
    """Refreshed on the patient's billing events, so a payment taken at another desk shows here too."""

    def __init__(self, patient: Patient, viewer: StaffViewer) -> None:
        self.patient = patient
        self.actor = viewer.actor
        self.summary = Billing([], [])
        self._loading = asyncio.Lock()

    @property
    def today(self) -> date:
        return today_in(self.patient.practice.time_zone)

    async def show(self) -> None:
        """Draw the section; the page that owns it passes the patient's billing events on to `on_change`
        (one subscription per open profile)."""
        self.summary = await billing.billing_for(self.patient.id, self.today)
        await billing.record_view(self.patient.id, self.summary, self.actor)
        self.dialogs = ui.element()
        self.panel()

    async def on_change(self, event: events.Event) -> None:
        if event.topic == events.BILLING:
            await self.refresh()

    async def refresh(self) -> None:
        async with self._loading:
            self.summary = await billing.billing_for(self.patient.id, self.today)
            self.panel.refresh()

    @ui.refreshable_method
    def panel(self) -> None:
        summary = self.summary
        with ui.card().classes('w-full').props('flat bordered data-testid=billing-section').mark('billing-section'):
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Billing').classes('text-h6')
                ui.button('New invoice', icon='add', on_click=self.new_invoice).props('outline no-caps')
            balance = f'Balance after credits: {format_money(summary.balance_cents)}'
            if summary.credit_cents:
                balance += f' (open {format_money(summary.owed_cents)}, credit {format_money(summary.credit_cents)})'
            ui.label(balance).classes('text-subtitle1').mark('billing-balance')
            if not summary.invoices:
                ui.label('No invoices yet.').classes('text-grey-8')
            for view in summary.invoices:
                self.invoice_row(view)

    def invoice_row(self, view: InvoiceView) -> None:
        invoice, totals = view.invoice, view.totals
        title = (
            f'{invoice.number} · {us_date(invoice.issued_on)} · total {format_money(totals.total_cents)} · '
            f'balance {format_money(totals.balance_cents)}'
        )
        with ui.expansion().classes('w-full').props('dense') as row:
            row.props['toggle-aria-label'] = NAMED_BY_CONTENT
            with row.add_slot('header'), ui.row().classes('w-full items-center no-wrap gap-2'):
                ui.badge(view.status_label, color=STATUS_COLORS[view.status])
                ui.label(title)
            if invoice.is_void:
                ui.label(f'Void: {invoice.void_reason}').classes('text-grey-8')
            lines = [
                {
                    'date': us_date(invoices.service_date(line, invoice)),
                    'description': line.description + (' (taxable)' if line.taxable else ''),
                    'qty': line.quantity,
                    'unit': format_money(line.unit_cents),
                    'amount': format_money(line.amount_cents),
                }
                for line in invoices.sorted_lines(invoice)
            ]
            columns = [
                {
                    'name': key,
                    'label': label,
                    'field': key,
                    'align': 'right' if key in ('qty', 'unit', 'amount') else 'left',
                }
                for key, label in (
                    ('date', 'Date of service'),
                    ('description', 'Description'),
                    ('qty', 'Qty'),
                    ('unit', 'Unit price'),
                    ('amount', 'Amount'),
                )
            ]
            ui.table(columns=columns, rows=lines).props('flat dense').classes('w-full')
            figures = [
                ('Subtotal', totals.subtotal_cents),
                (f'Sales tax ({invoice.tax_percent.normalize():f}%)', totals.tax_cents),
                ('Total', totals.total_cents),
                ('Adjustments', -totals.adjustments_cents),
                ('Insurance expected', totals.insurance_expected_cents),
                ('Insurance paid', totals.insurance_paid_cents),
                ('Patient responsibility', totals.patient_responsibility_cents),
                ('Patient paid', totals.patient_paid_cents),
                ('Balance', totals.balance_cents),
            ]
            ui.label(' · '.join(f'{label} {format_money(cents)}' for label, cents in figures)).classes('text-body2')
            for adjustment in invoices.sorted_adjustments(invoice):
                ui.label(
                    f'{ADJUSTMENT_KINDS.get(adjustment.kind, adjustment.kind)} {format_money(adjustment.amount_cents)}'
                    + (f': {adjustment.reason}' if adjustment.reason else '')
                ).classes('text-body2 text-grey-8')
            for payment in invoices.sorted_payments(invoice):
                ui.label(
                    f'{"Refund" if payment.kind == "refund" else "Payment"} {us_date(payment.paid_on)} '
                    f'{format_money(payment.amount_cents)} {PAYMENT_METHODS.get(payment.method, payment.method)}'
                    + (f' ref. {payment.reference}' if payment.reference else '')
                ).classes('text-body2 text-grey-8')
            with ui.row().classes('gap-2'):
                if not invoice.is_void:
                    ui.button('Record payment', on_click=lambda v=view: self.money_dialog(v, refund=False)).props(
                        'no-caps'
                    )
                if totals.patient_paid_cents > 0:
                    ui.button('Refund', on_click=lambda v=view: self.money_dialog(v, refund=True)).props(
                        'outline no-caps'
                    )
                if not invoice.is_void:
                    ui.button('Void', on_click=lambda v=view: self.void_dialog(v)).props(
                        'outline no-caps color=negative'
                    )

    # -- dialogs ------------------------------------------------------------------------------

    async def new_invoice(self) -> None:
        practice = self.patient.practice
        tax_percent = practice.sales_tax_percent
        provider_options = {p.id: p.display_name for p in await providers.list_providers(active_only=True)}
        today = self.today
        draft = InvoiceDraft(issued_on=today, lines=[LineDraft('', 0, service_date=today)])

        with (
            self.dialogs,
            titled_dialog(f'New invoice for {self.patient.full_name}', style='width: 900px; max-width: 95vw') as dialog,
        ):
            with ui.row().classes('w-full gap-4'):
                issued = ui.input('Invoice date', value=today.isoformat()).props('type=date outlined dense')
                due = ui.input('Due date (optional)', value='').props('type=date outlined dense')
                provider = ui.select(provider_options, label='Provider', value=next(iter(provider_options), None))
                provider.props('outlined dense').classes('min-w-[220px]')
            ui.label(f'Sales tax {tax_percent.normalize():f}% on taxable lines (practice setting)').classes(
                'text-caption text-grey-8'
            )
            problem = ui.label().classes('text-negative').props('role=alert')
            totals_label = ui.label().classes('text-subtitle2').mark('invoice-totals')

            def recompute() -> None:
                """Live totals: the form's values through the same derivation the stored invoice uses."""
                try:
                    collect()
                except (InvalidAmount, ValueError) as error:
                    totals_label.text = str(error)
                    return
                totals = invoices.totals_of_draft(draft, tax_percent)
                totals_label.text = (
                    f'Subtotal {format_money(totals.subtotal_cents)} · Tax {format_money(totals.tax_cents)} · '
                    f'Total {format_money(totals.total_cents)} · '
                    f'Adjustments {format_money(totals.adjustments_cents)} · '
                    f'Insurance {format_money(totals.insurance_portion_cents)} · '
                    f'Patient responsibility {format_money(totals.patient_responsibility_cents)}'
                )

            line_rows: list[dict] = []
            adjustment_rows: list[dict] = []
            lines_box = ui.column().classes('w-full gap-1')
            adjustments_box = ui.column().classes('w-full gap-1')

            def add_line() -> None:
                with lines_box, ui.row().classes('w-full items-center no-wrap gap-2') as row:
                    fields = {
                        'date': ui.input('Date of service', value=today.isoformat()).props('type=date dense outlined'),
                        'description': ui.input('Description').props('dense outlined').classes('col'),
                        'quantity': ui.number('Qty', value=1, min=1, precision=0)
                        .props('dense outlined')
                        .style('width: 70px'),
                        'price': ui.input('Unit price $')
                        .props('dense outlined inputmode=decimal')
                        .style('width: 110px'),
                        'taxable': ui.checkbox('Taxable'),
                    }
                    entry = {'row': row, **fields}
                    ui.button(icon='delete', on_click=lambda: remove(line_rows, entry)).props(
                        'flat round dense aria-label="Remove line"'
                    )
                    for field in fields.values():
                        field.on_value_change(recompute)
                line_rows.append(entry)

            def add_adjustment() -> None:
                with adjustments_box, ui.row().classes('w-full items-center no-wrap gap-2') as row:
                    fields = {
                        'kind': ui.select(ADJUSTMENT_KINDS, value='discount', label='Adjustment').props(
                            'dense outlined'
                        ),
                        'amount': ui.input('Amount $').props('dense outlined inputmode=decimal').style('width: 110px'),
                        'reason': ui.input('Reason').props('dense outlined').classes('col'),
                    }
                    entry = {'row': row, **fields}
                    ui.button(icon='delete', on_click=lambda: remove(adjustment_rows, entry)).props(
                        'flat round dense aria-label="Remove adjustment"'
                    )
                    for field in fields.values():
                        field.on_value_change(recompute)
                adjustment_rows.append(entry)

            def remove(rows: list[dict], entry: dict) -> None:
                rows.remove(entry)
                entry['row'].delete()
                recompute()

            with ui.row().classes('w-full gap-4'):
                insurance_expected = ui.input('Insurance expected $').props('dense outlined inputmode=decimal')
                insurance_paid = ui.input('Insurance paid $').props('dense outlined inputmode=decimal')
            for field in (insurance_expected, insurance_paid, issued):
                field.on_value_change(recompute)

            def collect() -> None:
                draft.issued_on = _date(issued.value) or today
                draft.due_on = _date(due.value)
                draft.provider_id = provider.value
                draft.lines = [
                    LineDraft(
                        description=row['description'].value or '',
                        unit_cents=parse_money(row['price'].value),
                        quantity=int(row['quantity'].value or 0),
                        taxable=bool(row['taxable'].value),
                        service_date=_date(row['date'].value),
                    )
                    for row in line_rows
                ]
                draft.adjustments = [
                    AdjustmentDraft(row['kind'].value, parse_money(row['amount'].value), row['reason'].value or '')
                    for row in adjustment_rows
                ]
                draft.insurance_expected_cents = parse_money(insurance_expected.value)
                draft.insurance_paid_cents = parse_money(insurance_paid.value)

            add_line()
            with ui.row().classes('gap-2'):
                ui.button('Add line', icon='add', on_click=lambda: (add_line(), recompute())).props('flat no-caps')
                ui.button('Add adjustment', icon='add', on_click=lambda: (add_adjustment(), recompute())).props(
                    'flat no-caps'
                )
            recompute()

            async def save() -> None:
                problem.text = ''
                try:
                    collect()
                    invoice = await invoices.write_invoice(self.patient.id, draft, self.actor)
                except InvalidAmount as error:
                    problem.text = str(error)
                    return
                except DomainError as error:
                    problem.text = str(error)
                    return
                dialog.close()
                ui.notify(f'Invoice {invoice.number} written.', type='positive')
                await self.refresh()

            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=dialog.close).props('flat no-caps')
                ui.button('Write invoice', on_click=save).props('no-caps')
        dialog.open()

    async def money_dialog(self, view: InvoiceView, *, refund: bool) -> None:
        invoice, totals = view.invoice, view.totals
        what = 'refund' if refund else 'payment'
        suggested = totals.patient_paid_cents if refund else max(totals.balance_cents, 0)
        with (
            self.dialogs,
            titled_dialog(f'Record a {what} on invoice {invoice.number}', style='width: 480px') as dialog,
        ):
            ui.label(f'Balance {format_money(totals.balance_cents)}').classes('text-grey-8')
            amount = ui.input(f'Amount of the {what} $', value=f'{suggested / 100:.2f}' if suggested else '')
            amount.props('outlined inputmode=decimal').classes('w-full').mark('payment-amount')
            when = ui.input('Date', value=self.today.isoformat()).props('type=date outlined').classes('w-full')
            method = ui.select(PAYMENT_METHODS, value='card', label='Method').props('outlined').classes('w-full')
            reference = ui.input('Reference (check number, card authorization)').props('outlined').classes('w-full')
            problem = ui.label().classes('text-negative').props('role=alert').mark('payment-problem')
            confirm = ui.checkbox('Keep the overpayment as a credit for the patient').mark('confirm-credit')
            confirm.set_visibility(False)

            async def save() -> None:
                problem.text = ''
                try:
                    entry = PaymentInput(
                        parse_money(amount.value), _date(when.value) or self.today, method.value, reference.value or ''
                    )
                    if refund:
                        await payments.record_refund(invoice.id, entry, self.actor)
                    else:
                        await payments.record_payment(invoice.id, entry, self.actor, confirm_credit=confirm.value)
                except OverpaymentNeedsConfirmation as error:
                    problem.text = str(error)
                    confirm.set_visibility(True)
                    return
                except (DomainError, InvalidAmount) as error:
                    problem.text = str(error)
                    return
                dialog.close()
                ui.notify(f'{what.capitalize()} of {format_money(entry.amount_cents)} recorded.', type='positive')
                await self.refresh()

            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=dialog.close).props('flat no-caps')
                ui.button(f'Record {what}', on_click=save).props('no-caps').mark('payment-save')
        dialog.open()

    async def void_dialog(self, view: InvoiceView) -> None:
        invoice = view.invoice
        if await ask_reason(
            self.dialogs,
            title=f'Void invoice {invoice.number}?',
            explanation='The invoice is kept and shown as void; it no longer counts toward the balance. '
            'Anything already paid on it stays with the patient as a credit.',
            label='Reason',
            confirm='Void invoice',
            action=lambda reason: invoices.void_invoice(invoice.id, reason, self.actor),
            done=f'Invoice {invoice.number} is void.',
            marks=('void-reason', 'void-save'),
        ):
            await self.refresh()


async def billing_section(patient: Patient, viewer: StaffViewer) -> BillingSection:
    """Draw the section where called (the Patient Profile) and keep it current."""
    section = BillingSection(patient, viewer)
    await section.show()
    return section
