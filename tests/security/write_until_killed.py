"""Run by tests/security/test_killed_mid_write.py in a process of its own: writes an invoice (the invoice row,
its number, three lines, an adjustment, then the audit row, in one transaction) and stalls just before the
audit row, so the test can kill the process with the other rows written and not yet committed.

    python -m tests.security.write_until_killed DATABASE_URL PATIENT_ID
"""

import asyncio
import sys
from datetime import date

from tortoise.context import TortoiseContext

from portal.db import tortoise_config
from services import audit, invoices

STALLED = 'stalled inside the transaction'


async def _stall(*args: object, **kwargs: object) -> None:
    print(STALLED, flush=True)
    await asyncio.sleep(3600)


async def main(url: str, patient_id: int) -> None:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        audit.record = _stall  # the last statement of the transaction
        lines = [invoices.LineDraft(f'Line {n}', 1000 * n) for n in (1, 2, 3)]
        adjustment = invoices.AdjustmentDraft('discount', 500, 'Loyalty')
        draft = invoices.InvoiceDraft(issued_on=date.today(), lines=lines, adjustments=[adjustment])
        await invoices.write_invoice(patient_id, draft, audit.SYSTEM)


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
