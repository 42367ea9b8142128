"""Database queries per patient portal page, for a patient with 1 record and one with 1,000 of each kind.

Budget (docs/design.md): a constant, the same for 1 and for 1,000 records. The pages are opened for real, in
the app built by `main.py` under NiceGUI's user simulation (as page tests do), by a patient signed in with
an emailed link; every SQL statement they run is counted from Tortoise's 'tortoise.db_client' log. The
baseline is the same page for the patient with one record.

    python -m bench.queries_per_page [--records 1000]
"""

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from nicegui import app
from nicegui.storage import Storage
from nicegui.testing.user_simulation import user_simulation

from bench.common import QueryLog, header, ratio, verdict
from bench.servers import ROOT
from models.patient import Patient
from models.practice import Practice
from services import appointment_requests, appointments, billing, outbox, rx_verification
from tests import factories
from tests.conftest import TEST_BASE_URL
from tests.mail import SmtpServer
from tests.portal_user import log_out, read_plain_pages, sign_in

PAGES = {'/prescriptions': 'Your prescriptions', '/billing': 'Balance after credits', '/appointments': 'Upcoming'}
# The service calls behind each page (as the page makes them, with the practice from the session's own
# statement), timed alone to tell database time from building the page.
SERVICES: dict[str, Callable[[int, Practice], Awaitable[object]]] = {
    '/prescriptions': rx_verification.patient_list,
    '/billing': lambda patient_id, _: billing.billing_for(patient_id),
    '/appointments': lambda patient_id, _: asyncio.gather(
        appointments.visits_for(patient_id), appointment_requests.history_and_room(patient_id)
    ),
}
TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


async def give_records(patient: Patient, count: int) -> None:
    practice = await patient.practice
    provider = await factories.make_provider(practice)
    for n in range(count):
        if n % 2:
            await factories.make_contact_lens_rx(patient, provider)
        else:
            await factories.make_spectacle_rx(patient, provider)
        await factories.make_invoice(patient, [('Exam', 15000), ('Lenses', 20000)], paid_cents=(n % 3) * 5000)
        await factories.make_appointment(patient, in_days=1 + n % 300)


def shape(statements: list[tuple[str, list]]) -> str:
    """'SELECT portalsession, SELECT patient x2, INSERT auditevent': what the page asked, in order of first use."""
    counts = Counter(
        f'{sql.split(None, 1)[0].upper()} {m[1] if (m := TABLE.search(sql)) else "?"}' for sql, _ in statements
    )
    return ', '.join(f'{key}{f" x{n}" if n > 1 else ""}' for key, n in counts.items())


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--records', type=int, default=1000, help='prescriptions, invoices and appointments')
    args = parser.parse_args()
    header(f'Queries per patient page: 1 record vs {args.records:,} records of each kind (SQLite)')
    smtp = SmtpServer()
    smtp.start()
    with tempfile.TemporaryDirectory(prefix='portal-bench-queries-') as tmp:
        os.environ.update(
            PORTAL_DATA_DIR=str(Path(tmp) / 'data'),
            PORTAL_DATABASE_URL=f'sqlite://{tmp}/portal.sqlite3',
            PORTAL_SECRET_KEY='bench-' + 'q' * 48,
            PORTAL_BASE_URL=TEST_BASE_URL,
            PORTAL_SMTP_HOST='127.0.0.1',
            PORTAL_SMTP_PORT=str(smtp.port),
        )
        for name in ('PORTAL_DEMO', 'PORTAL_REDIS_URL'):
            os.environ.pop(name, None)
        sys.argv = [str(ROOT / 'main.py')]
        # NiceGUI's user simulation expects pytest: say so, and keep its storage in the temp dir as its plugin does
        os.environ['PYTEST_CURRENT_TEST'] = 'bench/queries_per_page.py::main (call)'
        Storage.path = Path(tmp) / 'nicegui-storage'
        app.storage = Storage()
        try:
            async with user_simulation(main_file=ROOT / 'main.py') as simulated:
                user = read_plain_pages(simulated)  # the login pages are server-rendered HTML
                staff = await factories.make_staff()
                start = time.perf_counter()
                one = await factories.make_active_patient(staff, first_name='Una')
                many = await factories.make_active_patient(staff, first_name='Mona')
                await give_records(one, 1)
                await give_records(many, args.records)
                print(f'(seeded in {time.perf_counter() - start:.1f} s)')

                results: dict[tuple[str, str], tuple[int, float, str, float]] = {}
                for label, patient in (('1', one), ('N', many)):
                    await sign_in(user, smtp, patient)
                    await outbox.wait_for_pending()
                    for path, heading in PAGES.items():
                        await user.open(path)  # once to warm up: the first visit also creates the NiceGUI client
                        with QueryLog() as log:
                            start = time.perf_counter()
                            await user.open(path)
                            elapsed = time.perf_counter() - start
                        await user.should_see(heading)
                        await user.should_see(f'Hello, {patient.first_name}')
                        practice = await patient.practice  # outside the timing: the page has it already
                        start = time.perf_counter()
                        await SERVICES[path](patient.id, practice)
                        service = time.perf_counter() - start
                        results[(path, label)] = (len(log.statements), elapsed, shape(log.statements), service)
                    await log_out(user)
                await outbox.wait_for_pending()
        finally:
            smtp.stop()

    print(
        f'\n{"page":<16} {"queries, 1 record":>18} {f"queries, {args.records:,}":>16} {"ratio":>6}   '
        'page time 1 / N (of which service calls)'
    )
    ok = True
    for path in PAGES:
        (q1, t1, shape1, s1), (qn, tn, shape_n, sn) = results[(path, '1')], results[(path, 'N')]
        print(
            f'{path:<16} {q1:>18} {qn:>16} {ratio(qn, q1):>6}   '
            f'{t1 * 1000:.0f} ms ({s1 * 1000:.0f}) / {tn * 1000:.0f} ms ({sn * 1000:.0f})'
        )
        print(f'{"":<16} 1: {shape1}')
        if shape_n != shape1:
            print(f'{"":<16} N: {shape_n}')
    for path in PAGES:
        q1, qn = results[(path, '1')][0], results[(path, 'N')][0]
        ok &= q1 == qn
        print(verdict(q1 == qn, f'{path}: {q1} queries with 1 record, {qn} with {args.records:,} (budget: constant)'))
    print(f'\nOVERALL: {"PASS" if ok else "MISS"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
