"""Staff patient search over 100,000 patients: `services.patients.search_patients`, SQLite and PostgreSQL.

Budget (docs/design.md): p95 under 50 ms. The patients are bulk-inserted with their derived search columns
filled by `services.patients.derive_search_columns`, the derivation `save_patient` itself uses,
30% of them with an active portal account. Then a mix of what a receptionist types (name prefixes, last
names, 'last, first', emails, phone numbers, dates of birth) is searched in random order. Baseline: a bare
primary-key lookup of a patient on the same database. The plan of the slowest kind of query is printed.

    python -m bench.patient_search [--patients 100000] [--rounds 40] [--database-url postgres://...|'']
"""

import argparse
import asyncio
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta

from bench.common import (
    QueryLog,
    add_database_args,
    bench_database,
    exit_code,
    for_each_database,
    header,
    orm,
    ratio,
    row,
    summary,
    verdict,
)
from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Practice
from services.patients import derive_search_columns, fold, search_patients

BUDGET_P95_MS = 50.0
BATCH = 2000
SEED = 20240611

FIRST = (  # noqa: SIM905 - a list of names reads better as text
    'James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph '
    'Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret '
    'Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian '
    'Melissa George Deborah Timothy Stephanie Ronald Dorothy Jason Rebecca Edward Sharon Jeffrey Laura Ryan '
    'Cynthia Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Brenda Stephen Emma Larry Anna '
    'Justin Pamela Scott Nicole Brandon Samantha Benjamin Katherine Samuel Christine Gregory Helen Alexander '
    'Debra Patrick Rachel Frank Carolyn Raymond Janet Jack Maria Dennis Catherine Jerry Heather Tyler Diane '
    'Aaron Olivia Jose Julie Adam Joyce Nathan Victoria Henry Ruth Zachary Virginia Douglas Lauren Peter Kelly '
    'Kyle Christina Noah Joan Ethan Evelyn Jeremy Judith Walter Andrea Christian Hannah Keith Megan Roger '
    'Cheryl Terry Jacqueline Austin Martha Sean Madison Gerald Teresa Carl Gloria Harold Sara Dylan Janice '
    'Arthur Ann Lawrence Kathryn Jordan Abigail Jesse Sophia Bryan Frances Billy Jean Bruce Alice Gabriel Judy '
    'Joe Isabella Logan Julia Alan Grace Juan Amber Albert Denise Willie Danielle Elijah Marilyn Wayne Beverly '
    'Randy Charlotte Vincent Natalie Mason Theresa Roy Diana Ralph Brittany Bobby Doris Russell Kayla Bradley '
    'Alexis Philip Lori Eugene Marie Jamie Zoë Chloé José Renée'
).split()
LAST = (  # noqa: SIM905
    'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson '
    'Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis '
    'Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall '
    'Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes '
    'Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard '
    'Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price '
    'Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell '
    'Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton '
    'Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar '
    "Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy O'Brien "
    'Müller Nuñez Dubois Lévesque'
).split()
SUFFIXES = ('', '', '', '', 'son', 'ton', 'ley', 'man', 'er', 'field', 'wood', '-Smith', 'berg', 'stein')
DOMAINS = ('example.com', 'example.org', 'mail.example.com', 'example.net')
FIRST_DOB = date(1930, 1, 1)
DOB_DAYS = (date(2022, 12, 31) - FIRST_DOB).days


def make_patients(count: int, practice_id: int, rng: random.Random) -> list[Patient]:
    patients = []
    for n in range(count):
        first = rng.choice(FIRST)
        last = rng.choice(LAST) + rng.choice(SUFFIXES)
        email = f'{fold(first).replace(" ", "")}.{fold(last).replace(" ", "")}{n}@{rng.choice(DOMAINS)}'
        phone = f'({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}'
        patient = Patient(
            practice_id=practice_id,
            first_name=first,
            last_name=last,
            date_of_birth=FIRST_DOB + timedelta(days=rng.randrange(DOB_DAYS)),
            email=email.capitalize() if n % 7 == 0 else email,
            phone=phone,
            chart_number=f'C{n:06d}',
        )
        derive_search_columns(patient)
        patients.append(patient)
    return patients


async def populate(count: int, rng: random.Random) -> tuple[list[Patient], float]:
    start = time.perf_counter()
    practice = await Practice.create(name='Bench Eye Care', phone='(207) 555-0100')
    patients = make_patients(count, practice.id, rng)
    for i in range(0, count, BATCH):
        await Patient.bulk_create(patients[i : i + BATCH])
    ids = await Patient.all().order_by('id').values_list('id', 'email_normalized')
    accounts = [
        PortalAccount(patient_id=pid, login_email=email, active_email=email if rng.random() < 0.9 else None)
        for pid, email in ids
        if rng.random() < 0.3
    ]
    for i in range(0, len(accounts), BATCH):
        await PortalAccount.bulk_create(accounts[i : i + BATCH])
    for patient, (pid, _) in zip(patients, ids, strict=True):
        patient.id = pid
    return patients, time.perf_counter() - start


def query_kinds(rng: random.Random, patients: list[Patient]) -> dict[str, Callable[[], str]]:
    """Each kind draws a fresh realistic query from the data, as a receptionist would type it."""

    def anyone() -> Patient:
        return rng.choice(patients)

    return {
        'first-name prefix (3 letters)': lambda: anyone().first_name[:3].lower(),
        'first name': lambda: anyone().first_name,
        'last name': lambda: anyone().last_name,
        'last-name prefix (2 letters)': lambda: anyone().last_name[:2],
        'single letter': lambda: rng.choice('abcdjmrstw'),
        'last, first': lambda: f'{(p := anyone()).last_name}, {p.first_name}',
        'first last': lambda: f'{(p := anyone()).first_name} {p.last_name}',
        'email (full, any case)': lambda: anyone().email.upper(),
        'email up to the @': lambda: anyone().email_normalized.partition('@')[0] + '@',
        'phone (full, formatted)': lambda: anyone().phone,
        'phone prefix (area code + 3)': lambda: anyone().phone[:9],
        'phone last 4 digits': lambda: anyone().phone[-4:],
        'phone last 7 digits': lambda: anyone().phone[-8:],
        'date of birth MM/DD/YYYY': lambda: anyone().date_of_birth.strftime('%m/%d/%Y'),
        'date of birth ISO': lambda: anyone().date_of_birth.isoformat(),
    }


async def explain(ctx: object, kind: str, sql: str, values: list) -> list[str]:
    client = ctx.db()  # type: ignore[attr-defined]
    if kind == 'sqlite':
        _, rows = await client.execute_query('EXPLAIN QUERY PLAN ' + sql, values)
        return [str(r['detail']) for r in rows]
    _, rows = await client.execute_query('EXPLAIN (ANALYZE, BUFFERS) ' + sql, values)
    return [str(r['QUERY PLAN']) for r in rows]


async def run(kind: str, pg_url: str, count: int, rounds: int) -> bool:
    rng = random.Random(SEED)
    async with bench_database(kind, pg_url, 'portal_bench_search') as url, orm(url) as ctx:
        patients, seconds = await populate(count, rng)
        note = 'ANALYZE run (as autovacuum would)' if kind == 'postgres' else 'no ANALYZE (the app never runs it)'
        if kind == 'postgres':
            await ctx.db().execute_script('ANALYZE')
        print(f'\n## {kind}: {count:,} patients inserted in {seconds:.1f} s; {note}')

        kinds = query_kinds(rng, patients)
        plan = [name for name in kinds for _ in range(rounds)]
        rng.shuffle(plan)
        for name in list(kinds)[:5]:  # warm caches and prepared statements
            await search_patients(kinds[name]())
        timings: dict[str, list[float]] = defaultdict(list)
        results: dict[str, list[int]] = defaultdict(list)
        slowest: dict[str, tuple[float, str, list[tuple[str, list]]]] = {}
        with QueryLog() as log:
            for name in plan:
                query = kinds[name]()
                log.clear()
                start = time.perf_counter()
                found = await search_patients(query)
                elapsed = time.perf_counter() - start
                timings[name].append(elapsed)
                results[name].append(len(found))
                if elapsed > slowest.get(name, (0.0,))[0]:
                    slowest[name] = (elapsed, query, list(log.statements))

        baseline = []
        for _ in range(len(plan)):
            pid = rng.choice(patients).id
            start = time.perf_counter()
            await Patient.get(id=pid)
            baseline.append(time.perf_counter() - start)

        base = summary(baseline)
        overall = summary([t for samples in timings.values() for t in samples])
        print(row('primary-key lookup (baseline)', base))
        print(row('search_patients, whole mix', overall))
        print(
            f'ratio search/baseline: p50 {ratio(overall["p50"], base["p50"])}, p95 {ratio(overall["p95"], base["p95"])}'
        )
        print('per kind of query:')
        for name in kinds:
            stats = summary(timings[name])
            avg_found = sum(results[name]) / len(results[name])
            flag = '  <-- over budget' if stats['p95'] >= BUDGET_P95_MS else ''
            print('  ' + row(name, stats, width=30) + f'  results~{avg_found:.0f}{flag}')

        worst = max(timings, key=lambda name: summary(timings[name])['p95'])
        elapsed, query, statements = slowest[worst]
        print(f'plan of the slowest kind ({worst!r}, query {query!r}, {elapsed * 1000:.1f} ms):')
        print(f'  ({len(statements)} statements; the plans of those reading the patient table follow)')
        for sql, values in statements:
            if 'FROM "patient"' not in sql:
                continue
            print(f'  SQL: {sql}  {values}')
            for line in await explain(ctx, kind, sql, values):
                print('  | ' + line)

        over = [name for name in timings if summary(timings[name])['p95'] >= BUDGET_P95_MS]
        ok = overall['p95'] < BUDGET_P95_MS and not over
        detail = (
            f'{kind}: mix p95 {overall["p95"]:.1f} ms, worst kind {worst!r} p95 {summary(timings[worst])["p95"]:.1f} ms'
        )
        print(
            verdict(ok, f'{detail} vs budget < {BUDGET_P95_MS:.0f} ms' + (f'; over: {", ".join(over)}' if over else ''))
        )
        return ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--patients', type=int, default=100_000)
    parser.add_argument('--rounds', type=int, default=40, help='searches per kind of query')
    add_database_args(parser)
    args = parser.parse_args()
    if not args.only:
        header(f'Staff patient search over {args.patients:,} patients: services.patients.search_patients')
    results = await for_each_database(
        'bench.patient_search', args, lambda kind: run(kind, args.database_url, args.patients, args.rounds)
    )
    if not args.only:
        print(
            f'\nOVERALL: {"PASS" if all(results) else "MISS"} '
            f'(p95 < {BUDGET_P95_MS:.0f} ms for every kind of query, every database)'
        )
    return exit_code(results)


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
