"""Invoices written before billing was rebuilt survive its migration, and still add up to what they did."""

from datetime import date
from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate

from portal.db import apply_migrations, tortoise_config
from services import billing
from tests.databases import fresh_database_url

OLD_ROWS = [
    'INSERT INTO practice (id, name, phone, address_line1, address_line2, city, state, postal_code, time_zone,'
    ' portal_url, fax, tax_id, spectacle_expiry_months, eyewear_sales_exemption, reminder_lead_hours,'
    " sales_tax_percent, payment_url) VALUES (1, 'Old Practice', '555', '', '', '', '', '', 'America/New_York',"
    " '', '', '', 24, false, 48, 0, '')",
    'INSERT INTO patient (id, practice_id, first_name, last_name, date_of_birth, email, email_normalized, phone,'
    ' phone_digits, search_name, search_last, address, chart_number, created_at, updated_at) VALUES'
    " (1, 1, 'Ada', 'Old', '1970-01-01', '', '', '', '', 'ada old', 'old', '', '',"
    " '2025-01-01 00:00:00+00:00', '2025-01-01 00:00:00+00:00')",
    'INSERT INTO invoice (id, patient_id, number, issued_on, due_on, total_cents, paid_cents, created_at) VALUES'
    " (1, 1, 'INV-OLD-1', '2025-01-02', '2025-02-01', 19500, 5000, '2025-01-02 00:00:00+00:00')",
    'INSERT INTO invoiceline (id, invoice_id, description, quantity, unit_cents) VALUES'
    " (1, 1, 'Exam', 1, 15000), (2, 1, 'Refraction', 1, 4500)",
    "INSERT INTO payment (id, invoice_id, amount_cents, paid_on, method) VALUES (1, 1, 5000, '2025-01-02', 'cash')",
]


async def test_invoices_from_before_the_billing_migration_keep_their_lines_payments_and_balance(tmp_path: Path):
    async with fresh_database_url(str(tmp_path)) as url:
        config = tortoise_config(url)
        async with TortoiseContext() as ctx:
            await ctx.init(config=config, init_connections=False)
            await migrate(config=config, target='models.0002_practice_settings')
        async with TortoiseContext() as ctx:
            await ctx.init(config=config)
            connection = ctx.connections.get('default')
            for sql in OLD_ROWS:
                await connection.execute_script(sql)
            await ctx.close_connections()

        await apply_migrations(url)

        async with TortoiseContext() as ctx:
            await ctx.init(config=config)
            summary = await billing.billing_for(1, today=date(2025, 1, 20))
            await ctx.close_connections()
    [view] = summary.invoices
    assert view.invoice.number == 'INV-OLD-1'
    assert [line.description for line in view.invoice.lines] == ['Exam', 'Refraction']
    assert [(p.kind, p.amount_cents, p.method) for p in view.invoice.payments] == [('payment', 5000, 'cash')]
    assert (view.totals.total_cents, view.totals.patient_paid_cents, view.balance_cents) == (19500, 5000, 14500)
    assert view.status == 'open'
