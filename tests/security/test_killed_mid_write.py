"""Faults: the app killed (SIGKILL, no clean-up) in the middle of a multi-row write leaves nothing partial.

A process of its own writes an invoice: the invoice row, its number, three lines and an adjustment, then the
audit row, in one transaction. It stalls just before the audit row and is killed there; afterwards the
database holds no invoice, no line and no adjustment of it, on SQLite (its journal rolls the write back when
the file is next opened) and on PostgreSQL (the server aborts the dead connection's transaction).
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

from tortoise.context import TortoiseContext

from models.billing import Invoice, InvoiceAdjustment, InvoiceLine
from portal.db import tortoise_config
from tests import factories
from tests.databases import migrated_database_url
from tests.live_server import ROOT
from tests.security.write_until_killed import STALLED


async def _patient(url: str) -> int:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        return (await factories.make_patient()).id


async def _rows(url: str) -> tuple[int, int, int]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        return await Invoice.all().count(), await InvoiceLine.all().count(), await InvoiceAdjustment.all().count()


def _write(url: str, patient_id: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'PORTAL_'))}
    return subprocess.Popen(
        [sys.executable, '-m', 'tests.security.write_until_killed', url, str(patient_id)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


async def test_an_invoice_write_killed_before_its_commit_leaves_no_invoice_line_or_adjustment(tmp_path: Path):
    async with migrated_database_url(str(tmp_path)) as url:
        patient_id = await _patient(url)
        writer = _write(url, patient_id)
        try:
            assert writer.stdout.readline().strip() == STALLED  # every row but the audit row is written
            writer.send_signal(signal.SIGKILL)
        finally:
            writer.wait(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        assert await _rows(url) == (0, 0, 0)
