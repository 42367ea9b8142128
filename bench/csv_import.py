"""CSV import of 100,000 patients through the batched entry point (services.csv_import.jobs), SQLite and PostgreSQL.

Budget (issue 10): 100,000 patient rows in under a minute, while open pages stay responsive. The file is
generated like a practice export (chart number, names with accents, birth date, email, phone, address;
1% of rows with a bad email or date, to be refused). Measured: the whole path a staff member starts (read
and decode the bytes, queue the job, claim it, apply it chunk by chunk), then the same file again (every
row unchanged). Meanwhile a probe stands in for an open page: every 50 ms it searches patients and notes
how late the event loop woke it (loop lag) and how long the search took (page latency).

    python -m bench.csv_import [--rows 100000] [--database-url postgres://...|'']
"""

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import date, timedelta

from bench.common import (
    add_database_args,
    bench_database,
    exit_code,
    for_each_database,
    header,
    orm,
    row,
    summary,
    verdict,
)
from models.csv_import import ImportJob
from models.patient import Patient
from models.practice import Location, Practice, Provider
from services.csv_import import jobs, mapping
from services.patients import search_patients
from services.staff_auth import create_staff

BUDGET_SECONDS = 60.0
SEED = 20261126
AREA_CODES = (207, 212, 305, 415, 503, 617, 713, 802, 312, 602)
FIRST = 'James Mary Robert Zoë José Renée Anna Liam Chloé Noah Emma Lucas Mia Elijah Sofía Ava Omar Léa'.split()  # noqa: SIM905
LAST = "Smith Müller Nuñez O'Brien Garcia Lévesque Nguyen Patel Kim Rivera Dubois Cohen Walker Young".split()  # noqa: SIM905


def make_csv(count: int) -> bytes:
    rng = random.Random(SEED)
    lines = ['Chart #;First Name;Last Name;DOB;E-mail;Mobile;Address']
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(33000))
        email = f'p{n}@example.com' if n % 100 else 'not an email'
        dob = born.strftime('%m/%d/%Y') if n % 100 != 50 else '31/31/1999'
        phone = f'({rng.choice(AREA_CODES)}) {rng.randrange(200, 999)}-{rng.randrange(10000):04d}'  # ~all distinct
        lines.append(f'{100000 + n};{first};{last};{dob};{email};{phone};"{n} Harbor St; Portland"')
    return ('\ufeff' + '\r\n'.join(lines) + '\r\n').encode('utf-8')


async def probe(stop: asyncio.Event, lags: list[float], searches: list[float]) -> None:
    """An open page: wakes every 50 ms and runs a staff search."""
    while not stop.is_set():
        planned = time.perf_counter() + 0.05
        await asyncio.sleep(0.05)
        woke = time.perf_counter()
        lags.append(max(0.0, woke - planned))
        await search_patients('rivera')
        searches.append(time.perf_counter() - woke)


async def timed_import(data: bytes, staff: object) -> tuple[float, ImportJob, list[float], list[float]]:
    stop, lags, searches = asyncio.Event(), [], []
    page = asyncio.create_task(probe(stop, lags, searches))
    start, cpu = time.perf_counter(), time.process_time()
    upload = await asyncio.to_thread(jobs.read_upload, 'bench.csv', data)
    job = await jobs.start_import('patients', upload, mapping.guess('patients', upload.table.headers), staff)
    assert await jobs.claim(job.id)
    await jobs.run(job.id)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    stop.set()
    await page
    print(f'  (this process used {cpu:.1f} s of CPU, all threads; load average {os.getloadavg()[0]:.1f})')
    return elapsed, await ImportJob.get(id=job.id), lags, searches


async def run(kind: str, pg_url: str, count: int) -> bool:
    async with bench_database(kind, pg_url, 'portal_bench_import') as url, orm(url):
        practice = await Practice.create(name='Bench Eye Care', phone='(207) 555-0100', address_line1='1 Main St')
        await Location.create(practice=practice, name='Main office')
        await Provider.create(practice=practice, name='Dana Whitfield', licence_number='ME-1', licence_state='ME')
        staff = await create_staff('bench@example.org', 'Bench Admin', 'correct horse battery staple', 'admin')
        data = make_csv(count)
        print(f'\n## {kind}: {count:,} rows, {len(data) / 1e6:.1f} MB, chunks of {jobs.CHUNK_ROWS}')
        first, job, lags, searches = await timed_import(data, staff)
        print(
            f'first import    {first:6.1f} s  {count / first:8,.0f} rows/s  '
            f'created={job.created:,} refused={job.refused:,} held={job.held}'
        )
        print(row('  loop lag during import', summary(lags)))
        print(row('  staff search during import', summary(searches)))
        again, job2, lags2, searches2 = await timed_import(data, staff)
        print(f'same file again {again:6.1f} s  {count / again:8,.0f} rows/s  unchanged={job2.unchanged:,}')
        print(row('  loop lag during re-import', summary(lags2)))
        print(row('  staff search during re-import', summary(searches2)))
        patients = await Patient.all().count()
        ok = first < BUDGET_SECONDS and job2.unchanged == job.created and patients == job.created
        budget = f'budget {BUDGET_SECONDS:.0f} s'
        print(verdict(ok, f'{count:,} rows in {first:.1f} s ({budget}); the same file again changed nothing'))
        return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rows', type=int, default=100_000)
    add_database_args(parser)
    args = parser.parse_args()
    if not args.only:
        header('CSV import: 100,000 patient rows through the batched job')
    results = asyncio.run(
        for_each_database('bench.csv_import', args, lambda kind: run(kind, args.database_url, args.rows))
    )
    return exit_code(results)


if __name__ == '__main__':
    sys.exit(main())
